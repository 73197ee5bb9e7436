// The screenshot page's script (tests/widget/screens.mjs): the widget test page's loader,
// unchanged. Query as in ./widget.mjs: ?server=URL&app=ID[&locale=xx] for
// <parley-messenger> against the real server, ?fake for the stub instance whose timeline
// has every message state. It sets window.widget, window.parley, window.ready.
import './widget.mjs';
