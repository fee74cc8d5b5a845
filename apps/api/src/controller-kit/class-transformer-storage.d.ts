/** class-transformer's metadata singleton (the module its decorators write to), which it ships untyped. */
declare module 'class-transformer/cjs/storage.js' {
  export const defaultMetadataStorage: import('class-transformer/types/MetadataStorage.js').MetadataStorage;
}
