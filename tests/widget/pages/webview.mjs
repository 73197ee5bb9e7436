// The webview bundle as built (build/dist/parley-webview.mjs, single-tab, bridge wired) in
// a page as a native app's webview shows it. Query: ?server=URL&app=ID[&origins=...]
// [&classic: the classic script build/dist/parley-webview.js instead]
// The native side is played by the test: outgoing bridge messages go to a stand-in for
// react-native-webview's window.ReactNativeWebView (recorded in window.out); incoming ones
// are window.postMessage calls, as an app's injectJavaScript makes them.
const q = new URLSearchParams(location.search);
window.out = [];
window.ReactNativeWebView = {
  postMessage(s) {
    const m = JSON.parse(s);
    window.out.push(m);
    // 'ready' comes once the element is bound to its Parley instance.
    if (m.type === 'ready') {
      window.parley = window.widget.parley;
      window.ready = true;
    }
  },
};
window.cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => window.cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`));

if (q.has('classic')) {
  // The classic script (parley-webview.js): every locale table inside, global Parley.
  const s = document.createElement('script');
  s.src = '/build/dist/parley-webview.js';
  await new Promise((ok, fail) => ((s.onload = ok), (s.onerror = fail), document.head.append(s)));
} else {
  await import('/build/dist/parley-webview.mjs');
}
const el = document.createElement('parley-messenger');
el.setAttribute('app-id', q.get('app'));
el.setAttribute('server', q.get('server'));
if (q.get('origins')) el.setAttribute('bridge-origins', q.get('origins'));
document.body.append(el);
window.widget = el;
