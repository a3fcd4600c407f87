// Refreshing a page's lists: `fn` every `ms` while the tab is visible (a
// hidden tab asks the API nothing, and refreshes at once when shown again),
// never two runs at a time, stopped when the page is left.
export function poll(fn, ms, ctx, onError = () => {}) {
  let timer = null;
  let running = false;
  let stopped = false;

  const schedule = () => {
    if (!stopped && !timer && !document.hidden) timer = setTimeout(tick, ms);
  };
  async function tick() {
    timer = null;
    if (stopped || running || document.hidden) return;
    running = true;
    try { await fn(); } catch (err) { onError(err); } finally { running = false; }
    schedule();
  }
  const onVisibility = () => {
    clearTimeout(timer);
    timer = null;
    if (!document.hidden && !running) tick();
  };
  document.addEventListener('visibilitychange', onVisibility);
  schedule();
  ctx.onLeave(() => {
    stopped = true;
    clearTimeout(timer);
    document.removeEventListener('visibilitychange', onVisibility);
  });
}
