export { buildGateway, LOOPBACK_HOSTS, type Gateway, type GatewayOptions } from './gateway.js';
export { createGatewayRuntime, type GatewayRuntime, type GatewayRuntimeOptions } from './gateway-runtime.js';
export { buildMcpServer, SERVER_NAME, SERVER_VERSION, type McpServerOptions } from './mcp/build-mcp-server.js';
export { TOOL_DEFINITIONS } from './mcp/tool-definitions.js';
export { createGatewayServices, type GatewayServices } from './services/gateway-services.js';
export type { CallContext, ServiceContext, ScannerFleet } from './services/service-context.js';
export { allowedHostsFrom, allowedOriginsFrom } from './allowed-hosts.js';
