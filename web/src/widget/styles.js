// The widget's only styles: adopted by the shadow root as a constructable stylesheet (no
// inline style attributes, no <style> elements: works under `style-src 'self'`).
// Theming: --parley-accent, --parley-bg, --parley-fg, --parley-radius, --parley-font,
// --parley-z-index on the host element (or any ancestor); in the dark theme
// --parley-dark-bg, --parley-dark-fg and --parley-dark-accent-text (the accent as text on
// the background, which needs more lightness there). The theme follows
// prefers-color-scheme unless the host says theme="light" or theme="dark".
// Colours are the tokens below (--sub: a quiet surface, --line: borders; banners and errors
// in pairs of background and text); the dark set redefines them.
const DARK = `--at:var(--parley-dark-accent-text,#a9c1ff);--bg:var(--parley-dark-bg,#1c1d21);--fg:var(--parley-dark-fg,#e6e7ea);--sub:#ffffff17;--line:#fff4;--warn:#3a2e05;--warn-fg:#ffe08a;--bad:#4a1512;--bad-fg:#ffc2bb;--info:#1b2740;--info-fg:#c9d7ff;--err:#ff9c94;color-scheme:dark`;
export const css = `
:host{--a:var(--parley-accent,#2f5bd3);--at:var(--a);--bg:var(--parley-bg,#fff);--fg:var(--parley-fg,#1c1e21);--r:var(--parley-radius,14px);
--sub:#0000000d;--line:#0003;--warn:#fff4d6;--warn-fg:#5c4400;--bad:#fde2e1;--bad-fg:#7a1510;--info:#eef2fb;--info-fg:#1e3a7a;--err:#b42318;color-scheme:light;
position:fixed;z-index:var(--parley-z-index,2147483000);bottom:20px;right:20px;font:15px/1.4 var(--parley-font,system-ui,-apple-system,"Segoe UI",sans-serif);color:var(--fg)}
:host([position=left]){right:auto;left:20px}
@media (prefers-color-scheme:dark){:host(:not([theme=light])){${DARK}}}:host([theme=dark]){${DARK}}
[hidden]{display:none!important}
*{box-sizing:border-box}
button,textarea,input,select{font:inherit;color:inherit}
button{cursor:pointer}
:focus{outline:none}
:focus-visible{outline:2px solid var(--at);outline-offset:2px}
.launcher{position:relative;width:56px;height:56px;border-radius:50%;border:0;background:var(--a);color:#fff;box-shadow:0 4px 14px #0003;display:grid;place-items:center}
.launcher svg{width:26px;height:26px;fill:currentColor}
.launcher:focus-visible{outline-color:var(--fg);outline-offset:3px}
.badge{position:absolute;top:-4px;right:-4px;min-width:20px;height:20px;padding:0 6px;border-radius:10px;background:#d92d20;color:#fff;font-size:12px;font-weight:600;line-height:20px;text-align:center}
.panel{position:absolute;bottom:72px;right:0;width:min(380px,calc(100vw - 40px));height:min(620px,calc(100vh - 112px));display:flex;flex-direction:column;background:var(--bg);color:var(--fg);border-radius:var(--r);box-shadow:0 10px 40px #0004;overflow:hidden}
:host([position=left]) .panel{right:auto;left:0}
header,.banners,form,.typing{flex:none}
.listview,.threadview{flex:1;min-height:0;display:flex;flex-direction:column}
header{display:flex;align-items:center;gap:8px;padding:12px 14px;background:var(--a);color:#fff}
header .t{flex:1;min-width:0}
header h2{margin:0;font-size:16px}
header p{margin:0;font-size:13px;opacity:.9}
header button{background:none;border:0;color:#fff;padding:6px 8px;border-radius:8px;font-size:18px;line-height:1}
[dir=rtl] .back{transform:scaleX(-1)}
header button:focus-visible{outline-color:#fff}
.banners{display:flex;flex-direction:column}
.banner{display:flex;align-items:center;gap:8px;padding:6px 14px;font-size:13px;background:var(--warn);color:var(--warn-fg);border-bottom:1px solid var(--line)}
.banner.off{background:var(--bad);color:var(--bad-fg)}
.banner.info{background:var(--info);color:var(--info-fg)}
.banner span{flex:1}
.banner button,.meta button,.editing button{background:none;border:1px solid currentColor;border-radius:6px;padding:1px 8px;font-size:12px}
.list{flex:1;overflow:auto;margin:0;padding:8px;list-style:none}
.list li{margin:0 0 6px}
.conv{display:flex;flex-direction:column;width:100%;text-align:start;padding:10px 12px;border:1px solid var(--line);border-radius:calc(var(--r) - 4px);background:none;gap:2px}
.conv .s{font-weight:600;display:flex;gap:6px;align-items:center}
.conv .s span{flex:1;min-width:0;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.conv .p{opacity:.75;font-size:13px;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.n{background:var(--a);color:#fff;border-radius:10px;padding:0 7px;font-size:12px}
.empty{opacity:.7;padding:12px}
.primary{margin:8px;padding:10px;border:0;border-radius:calc(var(--r) - 4px);background:var(--a);color:#fff;font-weight:600}
.log{flex:1;overflow-y:auto;padding:8px 12px;display:flex;flex-direction:column-reverse;overscroll-behavior:contain}
.inner{display:flex;flex-direction:column;gap:4px}
.day{align-self:center;margin:10px 0 4px;font-size:12px;opacity:.7}
.older{align-self:center;font-size:12px;opacity:.7}
.msg{max-width:85%;align-self:flex-start;content-visibility:auto;contain-intrinsic-size:auto 48px}
.msg.me{align-self:flex-end;text-align:end}
.msg.system{align-self:center;text-align:center;font-size:13px;opacity:.9}
.who{font-size:12px;margin:6px 2px 2px;display:flex;align-items:center;gap:6px}
.me .who{justify-content:flex-end}.av{flex:none;display:grid;place-items:center;width:24px;height:24px;border-radius:50%;background:var(--a);color:#fff;font-size:11px;font-weight:600}.av svg{width:16px;height:16px;fill:currentColor}
.bubble{display:inline-block;max-width:100%;text-align:start;padding:8px 12px;border-radius:var(--r);background:var(--sub);white-space:pre-wrap;overflow-wrap:anywhere}
.me .bubble{background:var(--a);color:#fff}
.me.queued .bubble,.me.sending .bubble{background:var(--sub);color:var(--fg);border:1px dashed var(--at)}
.me.failed .bubble{background:var(--bad);color:var(--bad-fg);border:1px solid #d92d20}
.del{font-style:italic;opacity:.7}
.meta{font-size:11px;opacity:.75;margin:2px 4px;display:flex;gap:6px;justify-content:flex-end;align-items:center}.meta>:not(.state){flex:none}
.them .meta{justify-content:flex-start}.system .meta{justify-content:center}
.failed .meta{opacity:1;color:var(--err)}
.typing{min-height:20px;padding:0 14px;font-size:12px;opacity:.75}
form{display:flex;flex-direction:column;border-top:1px solid var(--line);padding:8px}
.editing{display:flex;align-items:center;gap:8px;font-size:12px;padding:0 4px 6px}
.editing span{flex:1}
.row{display:flex;gap:8px;align-items:flex-end}
textarea{flex:1;font-size:16px;resize:none;min-height:44px;max-height:140px;padding:10px 12px;border:1px solid var(--line);border-radius:calc(var(--r) - 4px);background:var(--bg)}
textarea:focus-visible{outline-offset:0}
.attach{flex:none;width:44px;height:44px;border:1px solid var(--line);border-radius:calc(var(--r) - 4px);background:none;display:grid;place-items:center}.attach svg{width:22px;height:22px;fill:none;stroke:currentColor;stroke-width:2}
.pl-thumb{display:block;max-width:100%;max-height:160px;border-radius:8px;margin-bottom:4px}progress{display:block;width:100%;margin-top:4px}
.send{border:0;border-radius:calc(var(--r) - 4px);background:var(--a);color:#fff;padding:0 14px;height:44px;font-weight:600}
.pl-text p{margin:0 0 6px}.pl-text p:last-child{margin:0}.pl-text pre{overflow:auto;padding:6px;border-radius:6px;background:var(--sub)}
.pl-text a,.pl-btn[href],.pl-file[href]{color:inherit;text-decoration:underline}
.pl-rich{display:flex;flex-wrap:wrap;gap:6px;margin-top:6px}
.pl-qr,.pl-btn,.pl-csat-btn,.pl-submit{border:1px solid var(--at);border-radius:999px;background:var(--bg);color:var(--at);padding:4px 12px;font:inherit}.pl-csat-btn{padding:4px 8px}.pl-csat-question{margin:0;flex-basis:100%}.pl-csat-scale{display:flex;flex-wrap:wrap;gap:6px}
.pl-qr:disabled,.pl-csat-btn:disabled{opacity:.55}.is-chosen{background:var(--a);color:#fff}
.pl-rich-carousel{flex-wrap:nowrap;overflow-x:auto}.pl-card{min-width:160px;border:1px solid var(--line);border-radius:8px;padding:8px}
.pl-card-img{width:100%;border-radius:6px}.pl-card-title{font-weight:600}
.pl-form,.pl-field{display:flex;flex-direction:column;gap:4px;width:100%}.pl-input{font-size:16px;padding:6px;border:1px solid var(--line);border-radius:6px}
.pl-attachments{list-style:none;margin:6px 0 0;padding:0}.pl-file-size{opacity:.7;margin-inline-start:6px}
.sheet,.ended{flex:none;border-top:1px solid var(--line);padding:10px 12px}.ended{text-align:center}.ended p{margin:4px}
.sheet form,.result{display:flex;flex-direction:column;gap:6px;border:0;padding:0}.sheet .row{align-items:stretch}.sheet h3{margin:0;font-size:15px}.sheet label{font-size:13px}
.sheet input,.sheet select{font-size:16px;padding:8px;border:1px solid var(--line);border-radius:8px;background:var(--bg);min-width:0}
.sheet .primary{margin:0;flex:1}.sheet .row button:not(.primary){background:none;border:1px solid var(--line);border-radius:8px;padding:0 12px}
.sheet p{margin:0}.err{color:var(--err);font-size:13px}.err:empty{display:none}
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
@media (max-width:480px){button,input,select{min-height:44px}button{min-width:44px}.panel:not([hidden])+.launcher{display:none}.panel{position:fixed;inset:0;width:auto;height:auto;border-radius:0;padding:env(safe-area-inset-top) env(safe-area-inset-right) env(safe-area-inset-bottom) env(safe-area-inset-left)}}
@media (prefers-reduced-motion:no-preference){.panel{animation:in .16s ease-out}@keyframes in{from{opacity:0;transform:translateY(8px)}}}
`;

let sheet = null;
/** One shared CSSStyleSheet for every widget instance on the page. */
export function styleSheet() {
  if (!sheet) {
    sheet = new CSSStyleSheet();
    sheet.replaceSync(css);
  }
  return sheet;
}
