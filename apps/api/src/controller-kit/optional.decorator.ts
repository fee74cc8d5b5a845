import { ValidateIf } from 'class-validator';

/**
 * Like class-validator's IsOptional, but only for absent fields: `null` is still validated (and so
 * refused) unless a field is explicitly nullable. IsOptional would let `"contact": null` through.
 */
export const Optional = () => ValidateIf((_object, value) => value !== undefined);
