// The same measurement on a page without Parley: the page's own share of the figure.
requestAnimationFrame(() => (window.result = { ms: performance.now() }));
