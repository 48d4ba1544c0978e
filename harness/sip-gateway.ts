// Tests start the lab's SIP gateway in-process (lab/sip-gateway/gateway.ts) and point a DN's contact at it.
export { startSipGateway, type SipGateway } from "../lab/sip-gateway/gateway";
