import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  DEFAULT_NEGOTIATED_PROTOCOL_VERSION,
  LATEST_PROTOCOL_VERSION,
  SUPPORTED_PROTOCOL_VERSIONS,
  isInitializeRequest,
} from '@modelcontextprotocol/sdk/types.js';

/** The first protocol revision with `resource_link` content blocks in tool results. */
const RESOURCE_LINKS_SINCE = '2025-06-18';

/** Revisions are ISO dates, so they compare as strings. */
export function supportsResourceLinks(protocolVersion: string): boolean {
  return protocolVersion >= RESOURCE_LINKS_SINCE;
}

/** What an HTTP request says it speaks: the MCP-Protocol-Version header, which the spec defaults to 2025-03-26 when absent. */
export function protocolVersionOfHeader(header: string | string[] | undefined): string {
  return typeof header === 'string' && header !== '' ? header : DEFAULT_NEGOTIATED_PROTOCOL_VERSION;
}

/**
 * The version negotiated on a long-lived connection (stdio). The SDK server answers `initialize`
 * without exposing what it agreed to, so this watches the transport for the initialize request
 * and applies the SDK's own rule (the client's version when supported, else the latest).
 */
export class NegotiatedProtocolVersion {
  private version: string = DEFAULT_NEGOTIATED_PROTOCOL_VERSION;

  get value(): string {
    return this.version;
  }

  /** Call after `server.connect(transport)`, which installs the handler this wraps. */
  watch(transport: Transport): void {
    const deliver = transport.onmessage;
    transport.onmessage = (message, extra) => {
      if (isInitializeRequest(message)) {
        const requested = message.params.protocolVersion;
        this.version = SUPPORTED_PROTOCOL_VERSIONS.includes(requested) ? requested : LATEST_PROTOCOL_VERSION;
      }
      deliver?.(message, extra);
    };
  }
}
