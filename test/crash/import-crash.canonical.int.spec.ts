import { describeImportCrash, canonicalExport } from './import-crash-scenario.js';

// A SIGKILLed import of a canonical export, run again, ends where a clean import ends (import-crash-scenario.ts).
describeImportCrash('canonical', canonicalExport);
