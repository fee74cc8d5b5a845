// Production code importing another project's testing entry point: refused.
import { fixture } from '@dealstream/bad-domain/testing';
export const leaked = fixture;
