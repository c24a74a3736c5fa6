// The tunnel room's door: the gateway that proxies `<token>.<tunnel domain>` (or `/t/<token>/…`) to a spawn's dashboard.
export { TunnelGateway } from "./gateway.js";
export { startGatewayServer } from "./server.js";
export { hashTunnelToken, newTunnelToken, TUNNEL_TOKEN_RE } from "./tokens.js";
export { parseTunnelDomain, tunnelOrigin } from "./tunnel-domain.js";
export { TunnelError, type TunnelFailureCode, type TunnelGatewayOptions, type TunnelLogger, type TunnelTarget } from "./types.js";
