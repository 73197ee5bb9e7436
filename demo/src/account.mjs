// The store's own sign-in, as a customer's site has one. Signing in asks the store's
// backend for a token (here the demo server's stand-in, /v1/demo/login, which signs an HS256
// JWT with the app's secret, as a customer's backend would) and hands it to the widget with
// parley.identify(token): the anonymous visitor's conversations move to the signed-in
// customer, and the agent sees a name. Signing out is parley.logout(): nothing stays behind.
import { html, render } from 'lit-html';
import { demo, widget } from './demo-api.mjs';

const KEY = 'parley-demo-customer';
const PERSONA = { sub: 'alex-morgan', name: 'Alex Morgan' };

export class Account {
  constructor(root) {
    this.root = root;
    this.name = localStorage.getItem(KEY) || '';
    this.error = '';
    this.draw();
  }

  async signIn() {
    try {
      const { token } = await demo('POST', 'login', PERSONA);
      const { parley } = await widget();
      await parley.identify(token);
      this.name = PERSONA.name;
      localStorage.setItem(KEY, this.name);
      this.error = '';
    } catch (e) {
      this.error = `Sign-in failed: ${e.message}`;
    }
    this.draw();
  }

  async signOut() {
    const { parley } = await widget();
    await parley.logout();
    localStorage.removeItem(KEY);
    location.reload();
  }

  forget() {
    localStorage.removeItem(KEY);
  }

  draw() {
    const first = this.name.split(' ')[0];
    render(
      html`<span class="who" data-testid="store-who">Hi, ${first || 'guest'}</span>
        ${this.name
          ? html`<button type="button" class="link" data-testid="store-signout" @click=${() => this.signOut()}>Sign out</button>`
          : html`<button type="button" class="link" data-testid="store-signin" @click=${() => this.signIn()}>
              Sign in as ${PERSONA.name}
            </button>`}
        ${this.error ? html`<span class="account-error" role="alert">${this.error}</span>` : ''}
        <a class="cart" href="#cart">Cart <b>2</b></a>`,
      this.root,
    );
  }
}
