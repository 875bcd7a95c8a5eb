import path from 'node:path';
import type * as grpc from '@grpc/grpc-js';
import type * as protoLoader from '@grpc/proto-loader';

/**
 * Macrocosmos' SN13 service definition, vendored from macrocosm-os/macrocosmos-ts (see
 * libs/providers/proto/PROVENANCE.md) and loaded as is, so the client and the devnet twin speak
 * exactly the published interface.
 */
export const SN13_PROTO_PATH = path.resolve(__dirname, '../../proto/sn13/v1/sn13_validator.proto');
export const SN13_SERVICE_NAME = 'sn13.v1.Sn13Service';

/** `OnDemandDataRequest` as proto-loader presents it (keepCase: the proto's snake_case names). */
export interface OnDemandDataRequestMessage {
  source: string;
  usernames: string[];
  keywords: string[];
  start_date?: string;
  end_date?: string;
  limit?: number | string;
  keyword_mode?: string;
  url?: string;
}

/** Loader options: proto field names, int64 as strings (no precision loss), oneof member named in `kind`. */
const LOADER_OPTIONS: protoLoader.Options = { keepCase: true, longs: String, enums: String, defaults: false, oneofs: true };

/**
 * @grpc/grpc-js, loaded on first use. Every service that imports the providers library would
 * otherwise carry gRPC and protobufjs (~20 MB resident) although only a dispatcher with
 * Constellation configured ever calls it.
 */
export function grpcJs(): typeof import('@grpc/grpc-js') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('@grpc/grpc-js') as typeof import('@grpc/grpc-js');
}

let loaded: { client: grpc.ServiceClientConstructor; service: grpc.ServiceDefinition } | undefined;

/** The Sn13Service client constructor and service definition (loaded once). */
export function sn13Service(): { client: grpc.ServiceClientConstructor; service: grpc.ServiceDefinition } {
  if (!loaded) {
    const grpc = grpcJs();
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const protoLoader = require('@grpc/proto-loader') as typeof import('@grpc/proto-loader');
    const definition = protoLoader.loadSync(SN13_PROTO_PATH, LOADER_OPTIONS);
    const pkg = grpc.loadPackageDefinition(definition) as unknown as { sn13: { v1: { Sn13Service: grpc.ServiceClientConstructor } } };
    const client = pkg.sn13.v1.Sn13Service;
    loaded = { client, service: client.service };
  }
  return loaded;
}
