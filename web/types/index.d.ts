// Parley's public API (web/src/index.js). Hand-written; checked by tsc on
// tests/web/types/usage.ts (tests/run.sh web).

export type Role = 'visitor' | 'agent' | 'bot' | 'system';
export type Channel = 'web' | 'sms' | 'whatsapp' | 'email' | 'messenger' | 'device';
export type Status = 'new' | 'open' | 'pending' | 'on_hold' | 'solved' | 'closed';
export type ConversationalStyle = 'live_chat' | 'live_chat_returning' | 'social_messaging';
export type MessageState = 'queued' | 'sending' | 'sent' | 'delivered' | 'read' | 'failed';
export type ConnectionState = 'offline' | 'connecting' | 'handshaking' | 'ready' | 'backoff';
export type Recoverability = 'recoverable' | 'permanent' | 'auth';
export type ErrorCode =
  | 'malformed_frame' | 'unknown_frame_type' | 'missing_field' | 'invalid_field'
  | 'unsupported_version' | 'frame_too_large' | 'message_too_long' | 'unauthorized'
  | 'forbidden' | 'not_found' | 'rate_limited' | 'server_error' | 'timeout' | 'disconnected'
  | 'conflict' | 'storage_quota' | 'storage_aborted' | 'storage_corrupt' | 'invalid_command';

/** A typed error: the core's error shape. */
export interface ParleyErrorInfo {
  code: ErrorCode;
  recoverable: Recoverability;
  message: string;
}

export declare class ParleyError extends Error implements ParleyErrorInfo {
  readonly name: 'ParleyError';
  readonly code: ErrorCode;
  readonly recoverable: Recoverability;
}

export interface Participant {
  role: Role;
  id?: string;
  name?: string;
}

export interface Attachment {
  id: string;
  name: string;
  mime: string;
  size: number;
  url?: string;
}

export type RichKind = 'none' | 'quick_replies' | 'buttons' | 'carousel' | 'form' | 'csat';

export interface Body {
  text?: string;
  rich?: RichKind;
  payload?: Record<string, unknown>;
  attachments?: Attachment[];
  event?: Record<string, unknown>;
}

export interface Message {
  conv: string;
  seq: number;
  id: string;
  cid?: string;
  ticket: number;
  ts: number;
  author: Participant;
  body: Body;
  edited_ts?: number;
  deleted?: boolean;
}

/** One entry of a conversation's timeline: a confirmed message or a local echo. */
export interface TimelineItem {
  key: string;
  state: MessageState;
  message: Message;
  error?: ParleyErrorInfo;
}

export interface ChannelBinding {
  channel: Channel;
  address: string;
  active: boolean;
  since: number;
}

export interface ControlOwner {
  kind: 'bot' | 'queue' | 'agent';
  agent_id?: string;
  agent_name?: string;
  queue_position?: number;
}

export interface Conversation {
  id: string;
  status: Status;
  style: ConversationalStyle;
  ticket: number;
  subject: string;
  owner: ControlOwner;
  channels: ChannelBinding[];
  last_seq: number;
  read_seq: number;
  unread: number;
  preview: string;
  [field: string]: unknown;
}

export interface ConversationEntry {
  conv: Conversation;
  unread: number;
  preview: string;
  typing: boolean;
  /** After requestHandoff(conv, 'device'): the token for a "continue on another device"
   *  link (open it with resume()); in memory only. */
  resume_token?: string;
}

/** Business hours, from the server's welcome (protocol.md, welcome.availability). */
export interface Availability {
  open: boolean;
  /** The expected reply time in ms ("we usually reply in about 2 h"). */
  reply_ms: number;
  /** When it next opens (closed) or closes (open), ms since the epoch; absent if unknown. */
  next_change?: number;
}

export interface StorageState {
  /** false: history is not saved on this device (storage blocked, or no consent yet). */
  persistent: boolean;
  reason: string;
}

/** The network adapter interface (docs/adapters.md). */
export interface AdapterHooks {
  onConnected(): void;
  onDisconnected(reason?: string): void;
  onFrame(text: string): void;
  onRequestFailed(req: string, error: ParleyErrorInfo): void;
}

export interface Adapter {
  readonly capabilities: Record<string, unknown>;
  connect(): void;
  disconnect(): void;
  send(frame: string): void;
  /** Optional: a native app's push token (the webview bundle's bridge hands it over). */
  registerPushToken?(token: string): void;
  /** Optional: the user is being wiped (logout): remove what the adapter keeps of them
   *  outside Parley's database and write nothing more. Awaited before the wipe. */
  forget?(): void | Promise<void>;
}

/**
 * Options of the XMPP adapter, `createXmppAdapter(options, hooks)` / `xmppAdapter(options)`
 * from build/dist/parley-xmpp.mjs (docs/adapters.md, "Worked example: XMPP"):
 * `Parley.create({ appId, adapter: xmppAdapter(options) })`.
 */
export interface XmppAdapterOptions {
  /** The server's XMPP-over-WebSocket endpoint (RFC 7395), `wss://…`. */
  service: string;
  /** The XMPP domain of the account. */
  domain: string;
  /** The visitor's account: local part and password. */
  username: string;
  password: string;
  /** The bare JID a new conversation is sent to. */
  agent: string;
  resource?: string;
  /** Where the archive index is cached (default localStorage); null: memory only. */
  storage?: Pick<Storage, 'getItem' | 'setItem' | 'removeItem'> | null;
  /** Where the XEP-0198 resumption state is kept (default sessionStorage); null: none. */
  sessionStorage?: Pick<Storage, 'getItem' | 'setItem' | 'removeItem'> | null;
  /** Defaults 15000, 10000, 25000, 10000. */
  openTimeoutMs?: number;
  iqTimeoutMs?: number;
  pingIntervalMs?: number;
  pongTimeoutMs?: number;
}

/** The XMPP adapter: the Adapter interface plus diagnostics (not part of the interface). */
export interface XmppAdapter extends Adapter {
  readonly xmpp: {
    /** The account's bare JID. */
    readonly own: string;
    /** Counters: connects, resumed, resumeFailed, mamQueries, forged, pushes, recounts, sent. */
    readonly stats: Readonly<Record<string, number>>;
    /** The last connection events, for logs. */
    readonly log: readonly string[];
  };
}

export interface CreateOptions {
  /** The site's app id on the server. */
  appId: string;
  /** The Parley server's base URL (the reference adapter); or give `adapter`. */
  server?: string;
  /** Another backend: builds an adapter with the given hooks. */
  adapter?: (hooks: AdapterHooks) => Adapter;
  /** A signed-in user: an HS256 JWT from the site's backend. */
  user?: { token: string };
  /** Asked when the server refuses the token; resolve to a fresh one (or null). */
  getToken?: () => Promise<string | null>;
  /**
   * Write nothing to storage (no IndexedDB, no cookies, no web storage) until consent() is
   * called. Once consent was given on this device its database exists, and later page
   * loads use it at once; logout() wipes it (withdrawn consent).
   */
  requireConsent?: boolean;
  locale?: string;
  style?: ConversationalStyle;
  /** Where the core's .wasm is, when not next to the module. */
  wasmUrl?: string;
  coreModuleUrl?: string;
  readyTimeoutMs?: number;
}

export interface ParleyEvents {
  conversations: ConversationEntry[];
  messages: { conv: string; messages: TimelineItem[] };
  connection: ConnectionState;
  /** `outOfSync` changed. */
  out_of_sync: boolean;
  unread: number;
  availability: Availability | null;
  storage: StorageState;
  error: ParleyErrorInfo;
  auth_required: void;
  wiped: void;
  /** An attachment's bytes going up: at least `loaded: 0` at the start and `loaded === total` when done. */
  upload_progress: UploadProgress;
}

export interface UploadProgress {
  /** The message the attachment belongs to (sendFile's result). */
  cid: string;
  /** The attachment's id. */
  attachment: string;
  conv: string;
  loaded: number;
  total: number;
}

export interface SendFileOptions {
  /** A caption sent with the file. */
  text?: string;
}

export interface Parley {
  readonly connection: ConnectionState;
  /** Connected but out of sync: catching up with the server fails and is being retried. */
  readonly outOfSync: boolean;
  readonly unread: number;
  readonly availability: Availability | null;
  readonly user: string;
  readonly storage: StorageState;
  /** Whether this tab holds the connection (the others mirror it). */
  readonly isLeader: boolean;

  on<E extends keyof ParleyEvents>(event: E, fn: (detail: ParleyEvents[E]) => void): () => void;
  off<E extends keyof ParleyEvents>(event: E, fn: (detail: ParleyEvents[E]) => void): void;

  conversations(): ConversationEntry[];
  /** The loaded window of a conversation, oldest first; loadOlder() pages back. */
  messages(conv: string): TimelineItem[];

  send(conv: string, body: string | Body): Promise<string>;
  /**
   * Sends a file: at most 10 MiB, of type image/png, image/jpeg, image/gif, image/webp,
   * application/pdf or text/plain (else rejects with a ParleyError `invalid_field` and
   * nothing is queued). The bytes are stored with the queued message, so a file picked
   * offline is sent when back online, reloads included. Resolves with the message's cid.
   */
  sendFile(conv: string, file: Blob, options?: SendFileOptions): Promise<string>;
  retry(cid: string): Promise<void>;
  cancel(cid: string): Promise<void>;
  editQueued(cid: string, body: string | Body): Promise<void>;
  markRead(conv: string, seq: number): Promise<void>;
  typing(conv: string, on: boolean): Promise<void>;
  startConversation(subject?: string): Promise<string>;
  requestHandoff(conv: string, channel: Channel, address?: string): Promise<void>;
  identify(token: string): Promise<void>;
  resume(token: string): Promise<void>;
  openConversation(conv: string): Promise<void>;
  loadOlder(conv: string): Promise<void>;
  /** Wipes every trace of the user in every tab and continues as a new visitor. Resolves
   *  once the data is gone, so the page may navigate away right after. */
  logout(): Promise<void>;
  consent(): Promise<void>;
  destroy(): Promise<void>;
}

export declare function create(options: CreateOptions): Promise<Parley>;
export declare const version: string;

declare const ParleyApi: {
  create: typeof create;
  version: string;
  ParleyError: typeof ParleyError;
};
export default ParleyApi;
