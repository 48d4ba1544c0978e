// SIP messages for the simulator: parsing with the `sip` npm package, validation of what the
// simulator relies on with zod, and building responses and OPTIONS pings. No sockets here.
import * as sip from "sip";
import { z } from "zod";

/** Methods the simulator serves; anything else gets 501 with this list in Allow. */
export const servedMethods = ["OPTIONS", "REGISTER", "INVITE", "ACK", "BYE", "CANCEL"] as const;
export type ServedMethod = (typeof servedMethods)[number];

const paramsSchema = z.record(z.string(), z.string().nullable());

const viaSchema = z.object({
  version: z.string(),
  protocol: z.string(),
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535).optional(),
  params: paramsSchema,
});
export type Via = z.infer<typeof viaSchema>;

const nameAddrSchema = z.object({
  name: z.string().optional(),
  uri: z.string().min(1),
  params: paramsSchema,
});
export type NameAddr = z.infer<typeof nameAddrSchema>;

const cseqSchema = z.object({ seq: z.number().int().min(0).max(2 ** 31 - 1), method: z.string().min(1) });

/** The headers every request and response must carry (RFC 3261 §8.1.1); we answer 400 without them. */
const mandatoryHeadersSchema = z.object({
  via: z.array(viaSchema).min(1),
  from: nameAddrSchema,
  to: nameAddrSchema,
  "call-id": z.string().min(1).max(256),
  cseq: cseqSchema,
});

const optionalHeadersSchema = z.object({
  contact: z.union([z.literal("*"), z.array(nameAddrSchema)]).optional(),
  expires: z.string().optional(),
  /** Lab header marking a call as multisite (W13 treats multisite calls apart). */
  "x-switchyard-multisite": z.string().optional(),
});

export interface SipRequest {
  kind: "request";
  method: string;
  uri: string;
  via: Via[];
  from: NameAddr;
  to: NameAddr;
  callId: string;
  cseq: { seq: number; method: string };
  contact: "*" | NameAddr[] | undefined;
  expiresHeaderSec: number | undefined;
  multisite: boolean;
  content: string;
}

export interface SipResponse {
  kind: "response";
  status: number;
  reason: string;
  callId: string;
  cseq: { seq: number; method: string };
  via: Via[];
}

/**
 * What a datagram turned out to be. `bad-request` still has enough (a Via) to send a 400 back;
 * `garbage` cannot be answered and is dropped, with the reason kept for the log.
 */
export type ParsedDatagram =
  | { kind: "request"; request: SipRequest }
  | { kind: "response"; response: SipResponse }
  | { kind: "bad-request"; reason: string; via: Via[]; callId: string; cseqText: string; from: unknown; to: unknown }
  | { kind: "garbage"; reason: string };

/** Larger than any UDP datagram we should see; refuse before parsing so a flood costs little. */
export const maxDatagramBytes = 65_507;

function describeIssues(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.join(".") || "message"}: ${issue.message}`).join("; ");
}

export function parseDatagram(data: Buffer): ParsedDatagram {
  if (data.length === 0) return { kind: "garbage", reason: "empty datagram" };
  if (data.length > maxDatagramBytes) return { kind: "garbage", reason: `datagram of ${data.length} bytes is too large` };
  // Keep-alives (CRLF pings, RFC 5626) are not SIP messages and need no answer.
  const text = data.toString("utf8");
  if (text.trim() === "") return { kind: "garbage", reason: "keep-alive or blank datagram" };

  let wire: sip.SipWireMessage | undefined;
  try {
    wire = sip.parse(text);
  } catch (error) {
    return { kind: "garbage", reason: `unparseable: ${String(error)}` };
  }
  if (wire === undefined) return { kind: "garbage", reason: "not a SIP message (bad start line or header line)" };

  const mandatory = mandatoryHeadersSchema.safeParse(wire.headers);
  if (wire.status !== undefined) {
    // A broken response cannot be answered (RFC 3261 §18.1.2); drop it.
    if (!mandatory.success) return { kind: "garbage", reason: `bad response: ${describeIssues(mandatory.error)}` };
    return {
      kind: "response",
      response: {
        kind: "response",
        status: wire.status,
        reason: wire.reason ?? "",
        callId: mandatory.data["call-id"],
        cseq: mandatory.data.cseq,
        via: mandatory.data.via,
      },
    };
  }

  const method = wire.method ?? "";
  if (!/^[A-Za-z][A-Za-z0-9._!%*+`'~-]*$/.test(method)) return { kind: "garbage", reason: "bad method token" };
  if (!mandatory.success) {
    // We can only answer if a Via survived: the 400 goes back to the datagram's source anyway, but
    // the response must echo the Via so the client can match it to its transaction.
    const via = z.array(viaSchema).min(1).safeParse(wire.headers["via"]);
    if (!via.success) return { kind: "garbage", reason: `request without a usable Via: ${describeIssues(mandatory.error)}` };
    const callId = wire.headers["call-id"];
    return {
      kind: "bad-request",
      reason: describeIssues(mandatory.error),
      via: via.data,
      callId: typeof callId === "string" ? callId : "",
      cseqText: "",
      from: wire.headers["from"],
      to: wire.headers["to"],
    };
  }
  const h = mandatory.data;
  if (h.cseq.method !== method) {
    return {
      kind: "bad-request",
      reason: `CSeq method ${h.cseq.method} does not match request method ${method}`,
      via: h.via,
      callId: h["call-id"],
      cseqText: `${h.cseq.seq} ${h.cseq.method}`,
      from: h.from,
      to: h.to,
    };
  }
  const optional = optionalHeadersSchema.safeParse(wire.headers);
  if (!optional.success) {
    return {
      kind: "bad-request",
      reason: describeIssues(optional.error),
      via: h.via,
      callId: h["call-id"],
      cseqText: `${h.cseq.seq} ${h.cseq.method}`,
      from: h.from,
      to: h.to,
    };
  }
  let expiresHeaderSec: number | undefined;
  if (optional.data.expires !== undefined) {
    const parsed = z.coerce.number().int().min(0).max(2 ** 31 - 1).safeParse(optional.data.expires.trim());
    if (!parsed.success) {
      return {
        kind: "bad-request",
        reason: `Expires header "${optional.data.expires}" is not a number of seconds`,
        via: h.via,
        callId: h["call-id"],
        cseqText: `${h.cseq.seq} ${h.cseq.method}`,
        from: h.from,
        to: h.to,
      };
    }
    expiresHeaderSec = parsed.data;
  }
  return {
    kind: "request",
    request: {
      kind: "request",
      method: method.toUpperCase(),
      uri: wire.uri ?? "",
      via: h.via,
      from: h.from,
      to: h.to,
      callId: h["call-id"],
      cseq: h.cseq,
      contact: normaliseContact(optional.data.contact),
      expiresHeaderSec,
      multisite: /^(1|true|yes)$/i.test(optional.data["x-switchyard-multisite"]?.trim() ?? ""),
      content: wire.content ?? "",
    },
  };
}

/** The library parses "Contact: *" as a contact whose URI is "*"; RFC 3261 §10.2.2 means "all bindings". */
function normaliseContact(contact: "*" | NameAddr[] | undefined): "*" | NameAddr[] | undefined {
  if (Array.isArray(contact) && contact.length === 1 && contact[0]?.uri.trim() === "*") return "*";
  return contact;
}

export interface ResponseExtras {
  toTag?: string;
  headers?: Record<string, string>;
  contact?: NameAddr[];
  body?: { contentType: string; content: string };
}

export const serverHeader = "Switchyard-SIP-Server-Simulator";

/**
 * The Server / User-Agent value of one simulated server: product/version and, as a comment, the server's
 * name, so a client talking to a pair's VIP sees which server answered (RFC 3261 §20.35 allows comments).
 */
export function serverProduct(version: string, name: string): string {
  const comment = name.replace(/[()\\\r\n]/g, "_");
  return `${serverHeader}/${version.replace(/[\s/]/g, "_")} (${comment})`;
}

export function buildResponse(request: SipRequest, status: number, reason: string, extras: ResponseExtras = {}): string {
  const to: NameAddr = { ...request.to, params: { ...request.to.params } };
  // A UAS adds a To tag to every response except 100 (RFC 3261 §8.2.6.2) when the request had none.
  if (status > 100 && extras.toTag !== undefined && to.params["tag"] === undefined) to.params["tag"] = extras.toTag;
  const headers: Record<string, unknown> = {
    via: request.via,
    from: request.from,
    to,
    "call-id": request.callId,
    cseq: request.cseq,
  };
  if (extras.contact !== undefined && extras.contact.length > 0) headers["contact"] = extras.contact;
  headers["server"] = serverHeader;
  for (const [name, value] of Object.entries(extras.headers ?? {})) headers[name.toLowerCase()] = value;
  if (extras.body) headers["content-type"] = extras.body.contentType;
  return sip.stringify({ status, reason, version: "2.0", headers, content: extras.body?.content ?? "" });
}

/** A 400 for a request too broken to build a normal response from; echoes what survived. */
export function buildBadRequest(bad: Extract<ParsedDatagram, { kind: "bad-request" }>, product = serverHeader): string {
  const lines = [`SIP/2.0 400 Bad Request`];
  const headerText = sip.stringify({ status: 400, reason: "Bad Request", version: "2.0", headers: { via: bad.via } });
  // Reuse the library's Via serialisation, then add the rest by hand: From/To/CSeq may be unusable.
  const viaLines = headerText.split("\r\n").filter((line) => line.startsWith("Via:"));
  lines.push(...viaLines);
  const from = nameAddrSchema.safeParse(bad.from);
  const to = nameAddrSchema.safeParse(bad.to);
  if (from.success) lines.push(`From: <${from.data.uri}>${paramsText(from.data.params)}`);
  if (to.success) lines.push(`To: <${to.data.uri}>${paramsText(to.data.params)}`);
  if (bad.callId !== "") lines.push(`Call-ID: ${bad.callId}`);
  if (bad.cseqText !== "") lines.push(`CSeq: ${bad.cseqText}`);
  lines.push(`Warning: 399 switchyard "${bad.reason.replace(/["\r\n\\]/g, "'").slice(0, 200)}"`);
  lines.push(`Server: ${product}`, "Content-Length: 0", "", "");
  return lines.join("\r\n");
}

function paramsText(params: Record<string, string | null>): string {
  return Object.entries(params)
    .map(([name, value]) => (value === null ? `;${name}` : `;${name}=${value}`))
    .join("");
}

export interface OptionsPing {
  text: string;
  callId: string;
  branch: string;
}

/** An OPTIONS request for Active Out-Of-Service checks of a service DN (W6). */
export function buildOptionsPing(args: {
  targetUri: string;
  localAddress: string;
  localPort: number;
  dn: string;
  sequence: number;
  token: string;
  product?: string;
}): OptionsPing {
  const branch = `z9hG4bK-oos-${args.token}`;
  const callId = `oos-${args.token}@${args.localAddress}`;
  const text = [
    `OPTIONS ${args.targetUri} SIP/2.0`,
    `Via: SIP/2.0/UDP ${hostPort(args.localAddress, args.localPort)};branch=${branch};rport`,
    `Max-Forwards: 70`,
    `From: <sip:switchyard@${hostPort(args.localAddress, args.localPort)}>;tag=oos${args.token}`,
    `To: <${args.targetUri}>`,
    `Call-ID: ${callId}`,
    `CSeq: ${args.sequence} OPTIONS`,
    `Accept: application/sdp`,
    `User-Agent: ${args.product ?? serverHeader}`,
    `Content-Length: 0`,
    "",
    "",
  ].join("\r\n");
  return { text, callId, branch };
}

function hostPort(address: string, port: number): string {
  return address.includes(":") ? `[${address}]:${port}` : `${address}:${port}`;
}

/** Where to send to reach a SIP URI or a bare host:port (service DN `contact` option). */
export function uriTarget(contact: string): { uri: string; host: string; port: number } | undefined {
  const uri = /^sips?:/i.test(contact) ? contact : `sip:${contact}`;
  const parsed = sip.parseUri(uri);
  if (parsed === undefined || parsed.host === undefined || parsed.host === "") return undefined;
  const host = parsed.host.replace(/^\[|\]$/g, "");
  // The library gives NaN for a URI without a port.
  const port = parsed.port === undefined || Number.isNaN(parsed.port) ? 5060 : parsed.port;
  if (!Number.isInteger(port) || port < 1 || port > 65535) return undefined;
  return { uri, host, port };
}

/** The user part of a SIP URI (the DN or the AOR's user), or the whole URI when it has none. */
export function uriUser(uri: string): string {
  const parsed = sip.parseUri(uri);
  return parsed?.user ?? uri;
}
