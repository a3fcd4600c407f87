from hookstream.cli import main

main()
