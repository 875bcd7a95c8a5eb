import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expandMetadata, Metadata, TypeRegistry } from '@polkadot/types';
import type { StorageEntry } from '@polkadot/types/primitive/types';
import type { Codec } from '@polkadot/types/types';
import { compactStripLength, u8aToHex } from '@polkadot/util';
import { blake2AsHex } from '@polkadot/util-crypto';

/**
 * The real subtensor runtimes the fake node can be: `finney-424` is finney's metadata V16 at
 * spec 424 (Trust, Rank and PruningScores gone; runtime APIs described in the metadata), the
 * default; `testnet-224` is the older V14 testnet spec with the storage items it had then.
 * Provenance of both: fixtures/PROVENANCE.md.
 */
export type SubtensorRuntimeName = 'finney-424' | 'testnet-224';
export const DEFAULT_SUBTENSOR_RUNTIME: SubtensorRuntimeName = 'finney-424';

/** One runtime API method as the metadata describes it, to serve it over state_call. */
export interface RuntimeCall {
  /** `<Api>_<method>`, the state_call name, e.g. `NeuronInfoRuntimeApi_get_neurons_lite`. */
  readonly name: string;
  /** Decodes the SCALE-encoded arguments (their concatenation, as state_call carries them); throws unless exact. */
  decodeArgs(data: Uint8Array): Codec[];
  /** SCALE bytes of `value` as the method's return type (u8aToHex(codec.toU8a()): an Option keeps its tag). */
  encodeResult(value: unknown): `0x${string}`;
}

/** A decoded real subtensor runtime: the registry to encode values with and the storage-key builders. */
export interface SubtensorRuntime {
  readonly name: SubtensorRuntimeName;
  readonly specName: string;
  readonly specVersion: number;
  readonly transactionVersion: number;
  readonly chainName: string;
  readonly metadataHex: `0x${string}`;
  /** The metadata format version (14 for testnet-224, 16 for finney-424). */
  readonly metadataVersion: number;
  readonly registry: TypeRegistry;
  /** RuntimeVersion.apis: [blake2_64(api name), version] as the node reports them. */
  readonly apis: ReadonlyArray<readonly [`0x${string}`, number]>;
  /** Whether SubtensorModule.<item> exists in this spec (e.g. `trust` is gone from finney-424). */
  hasStorage(item: string): boolean;
  /**
   * Hex storage key (no length prefix) of SubtensorModule.<item>(...args), as a node would
   * store it. `item` is named as in `api.query.subtensorModule.<item>` (e.g. `totalHotkeyAlpha`).
   */
  storageKey(item: string, ...args: unknown[]): string;
  /** SCALE-encodes a value as the given storage item's value type. */
  encodeValue(item: string, value: unknown): string;
  /** The runtime API method `<Api>_<method>` if the metadata describes it (V15+ only). */
  runtimeCall(name: string): RuntimeCall | undefined;
}

/** blake2_64("Metadata"): the Metadata runtime API's id in RuntimeVersion.apis. */
export const METADATA_API_ID = blake2AsHex('Metadata', 64);

const loaded = new Map<SubtensorRuntimeName, SubtensorRuntime>();

/** Loads (once per process) a subtensor metadata fixture into a registry. */
export function subtensorRuntime(name: SubtensorRuntimeName = DEFAULT_SUBTENSOR_RUNTIME): SubtensorRuntime {
  let runtime = loaded.get(name);
  if (!runtime) {
    runtime = name === 'finney-424' ? loadFinney424() : loadTestnet224();
    loaded.set(name, runtime);
  }
  return runtime;
}

const fixture = (file: string) => join(__dirname, '..', 'fixtures', file);

/** The raw metadata bytes as captured (Metadata_metadata_at_version(16) of a finney node). */
function loadFinney424(): SubtensorRuntime {
  const metadataHex = u8aToHex(readFileSync(fixture('finney-spec424-metadata.scale')));
  // The runtime describes its own version (System.Version): spec name, version and the APIs it
  // implements, exactly what its state_getRuntimeVersion reports.
  return buildRuntime('finney-424', metadataHex, (registry, version) => ({
    specName: version.specName.toString(),
    specVersion: version.specVersion.toNumber(),
    transactionVersion: version.transactionVersion.toNumber(),
    chainName: 'Bittensor',
    apis: version.apis.map(([id, v]) => [id.toHex(), v.toNumber()] as const),
  }));
}

/** The V14 testnet fixture: read at runtime rather than `import`ed, a 400 kB literal slows every type-check. */
function loadTestnet224(): SubtensorRuntime {
  const json = JSON.parse(readFileSync(fixture('subtensor-metadata.json'), 'utf8')) as {
    specName: string;
    specVersion: number;
    transactionVersion: number;
    chainName: string;
    metadata: `0x${string}`;
  };
  return buildRuntime('testnet-224', json.metadata, () => ({
    specName: json.specName,
    specVersion: json.specVersion,
    transactionVersion: json.transactionVersion,
    chainName: json.chainName,
    // V14 metadata describes no runtime API, so only the Metadata API (which clients probe
    // before state_getMetadata) is declared: the fake serves nothing else on this spec.
    apis: [[METADATA_API_ID, 2] as const],
  }));
}

interface RuntimeIdentity {
  specName: string;
  specVersion: number;
  transactionVersion: number;
  chainName: string;
  apis: ReadonlyArray<readonly [`0x${string}`, number]>;
}

interface VersionConstant extends Codec {
  specName: Codec;
  specVersion: { toNumber(): number };
  transactionVersion: { toNumber(): number };
  apis: Array<[{ toHex(): `0x${string}` }, { toNumber(): number }]>;
}

function buildRuntime(name: SubtensorRuntimeName, metadataHex: `0x${string}`, identify: (registry: TypeRegistry, version: VersionConstant) => RuntimeIdentity): SubtensorRuntime {
  const registry = new TypeRegistry();
  const metadata = new Metadata(registry, metadataHex);
  // The fake never decodes extrinsics, so every signed extension is declared payload-free:
  // that keeps the registry quiet about subtensor's own ones it does not know.
  const signedExtensions = Object.fromEntries(metadata.asLatest.extrinsic.transactionExtensions.map((ext) => [ext.identifier.toString(), { extrinsic: {}, payload: {} }]));
  registry.setMetadata(metadata, undefined, signedExtensions);
  const decorated = expandMetadata(registry, metadata);
  const storage = decorated.query['subtensorModule'];
  const identity = identify(registry, decorated.consts['system']['version'] as unknown as VersionConstant);

  const entry = (item: string): StorageEntry => {
    const found = storage[item];
    if (!found) throw new Error(`SubtensorModule.${item} is not in spec ${identity.specVersion}`);
    return found;
  };

  const calls = new Map<string, RuntimeCall>();
  for (const api of metadata.asLatest.apis) {
    for (const method of api.methods) {
      const callName = `${api.name.toString()}_${method.name.toString()}`;
      const inputs = method.inputs.map((input) => registry.createLookupType(input.type));
      const output = registry.createLookupType(method.output);
      calls.set(callName, {
        name: callName,
        decodeArgs: (data) => {
          let offset = 0;
          const args = inputs.map((type) => {
            const arg = registry.createType(type, data.subarray(offset));
            offset += arg.encodedLength;
            return arg;
          });
          // createType pads short input with zeros; the runtime refuses it, and trailing bytes too.
          if (offset !== data.length) throw new Error(`expected ${offset} bytes of SCALE arguments, got ${data.length}`);
          return args;
        },
        encodeResult: (value) => u8aToHex(registry.createType(output, value).toU8a()),
      });
    }
  }

  return {
    name,
    ...identity,
    metadataHex,
    metadataVersion: metadata.version,
    registry,
    hasStorage: (item) => item in storage,
    storageKey: (item, ...args) => u8aToHex(compactStripLength(entry(item)(...args))[1]),
    encodeValue: (item, value) => {
      const type = entry(item).meta.type;
      const valueType = registry.createLookupType(type.isPlain ? type.asPlain : type.asMap.value);
      return u8aToHex(registry.createType(valueType, value).toU8a());
    },
    runtimeCall: (callName) => calls.get(callName),
  };
}
