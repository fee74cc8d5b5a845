// How TypeScript sources are compiled when they run unbuilt: by Jest (jest.config.js, @swc/jest) and by a
// worker thread started from them (tools/ts-worker-hooks.js). One set of options, so both compile alike.
export const swcOptions = {
  jsc: {
    target: 'es2022',
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false },
    keepClassNames: true,
  },
  module: { type: 'es6' },
  sourceMaps: 'inline',
};
