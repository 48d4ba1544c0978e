// Type declarations for the parts of the `sip` npm package (kirm/sip.js, plain JavaScript) the
// simulator uses: the message parser and serialiser only. Everything parsed is re-validated with zod
// in sip-message.ts, so these types are deliberately loose (`unknown` header values).
declare module "sip" {
  export interface SipUri {
    schema?: string;
    user?: string;
    password?: string;
    host?: string;
    port?: number;
    params?: Record<string, string | null>;
    headers?: Record<string, string>;
  }
  export interface SipWireMessage {
    method?: string;
    uri?: string;
    status?: number;
    reason?: string;
    version?: string;
    headers: Record<string, unknown>;
    content?: string;
  }
  /** Parses one datagram; undefined when the start line or a header line is malformed. */
  export function parse(data: string): SipWireMessage | undefined;
  export function stringify(message: SipWireMessage): string;
  export function parseUri(uri: string): SipUri | undefined;
}
