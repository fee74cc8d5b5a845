import type { SourcedLine } from '../canonical/canonical-records.js';
import { readHubSpotExport } from './hubspot.adapter.js';
import { readPipedriveExport } from './pipedrive.adapter.js';
import { readSalesforceExport } from './salesforce.adapter.js';

export const VENDOR_FORMATS = ['salesforce', 'hubspot', 'pipedrive'] as const;
export type VendorFormat = (typeof VENDOR_FORMATS)[number];

/**
 * A vendor export as canonical lines (the adapter seam of `runHistoricImport`): the stage map's header
 * and pipelines first, then one deal block per deal, every line with the vendor file and line it came
 * from. An unusable file or stage map throws ImportFormatError before the first line is yielded.
 */
export function readVendorExport(
  format: VendorFormat,
  files: readonly string[],
  stageMap: string,
): AsyncGenerator<SourcedLine> {
  switch (format) {
    case 'salesforce':
      return readSalesforceExport(files, stageMap);
    case 'hubspot':
      return readHubSpotExport(files, stageMap);
    case 'pipedrive':
      return readPipedriveExport(files, stageMap);
  }
}
