import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expandMetadata, Metadata, TypeRegistry } from '@polkadot/types';
import type { StorageEntry } from '@polkadot/types/primitive/types';
import { compactStripLength, u8aToHex } from '@polkadot/util';

/** The fixture's shape; see fixtures/PROVENANCE.md for where the metadata comes from. */
interface MetadataFixture {
  specName: string;
  specVersion: number;
  transactionVersion: number;
  chainName: string;
  metadata: `0x${string}`;
}

/** A decoded real subtensor runtime: the registry to encode values with and the storage-key builders. */
export interface SubtensorRuntime {
  readonly specName: string;
  readonly specVersion: number;
  readonly transactionVersion: number;
  readonly chainName: string;
  readonly metadataHex: `0x${string}`;
  /** The metadata format version (14 for this spec). */
  readonly metadataVersion: number;
  readonly registry: TypeRegistry;
  /**
   * Hex storage key (no length prefix) of SubtensorModule.<item>(...args), as a node would
   * store it. `item` is named as in `api.query.subtensorModule.<item>` (e.g. `totalHotkeyAlpha`).
   */
  storageKey(item: string, ...args: unknown[]): string;
  /** SCALE-encodes a value as the given storage item's value type. */
  encodeValue(item: string, value: unknown): string;
}

let loaded: SubtensorRuntime | undefined;

/** Loads (once per process) the subtensor metadata fixture into a registry. */
export function subtensorRuntime(): SubtensorRuntime {
  loaded ??= loadRuntime();
  return loaded;
}

function loadRuntime(): SubtensorRuntime {
  // Read at runtime rather than `import`ed: a 400 kB string literal would slow every type-check.
  const fixturePath = join(__dirname, '..', 'fixtures', 'subtensor-metadata.json');
  const fixture = JSON.parse(readFileSync(fixturePath, 'utf8')) as MetadataFixture;
  const registry = new TypeRegistry();
  const metadata = new Metadata(registry, fixture.metadata);
  // The fake never decodes extrinsics, so every signed extension is declared payload-free:
  // that keeps the registry quiet about subtensor's own ones it does not know.
  const signedExtensions = Object.fromEntries(
    metadata.asLatest.extrinsic.transactionExtensions.map((ext) => [ext.identifier.toString(), { extrinsic: {}, payload: {} }]),
  );
  registry.setMetadata(metadata, undefined, signedExtensions);
  const storage = expandMetadata(registry, metadata).query['subtensorModule'];

  const entry = (item: string): StorageEntry => {
    const found = storage[item];
    if (!found) throw new Error(`SubtensorModule.${item} is not in spec ${fixture.specVersion}`);
    return found;
  };

  return {
    specName: fixture.specName,
    specVersion: fixture.specVersion,
    transactionVersion: fixture.transactionVersion,
    chainName: fixture.chainName,
    metadataHex: fixture.metadata,
    metadataVersion: metadata.version,
    registry,
    storageKey: (item, ...args) => u8aToHex(compactStripLength(entry(item)(...args))[1]),
    encodeValue: (item, value) => {
      const type = entry(item).meta.type;
      const valueType = registry.createLookupType(type.isPlain ? type.asPlain : type.asMap.value);
      return u8aToHex(registry.createType(valueType, value).toU8a());
    },
  };
}
