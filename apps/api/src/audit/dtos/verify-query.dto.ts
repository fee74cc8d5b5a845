import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsString, Matches } from 'class-validator';
import { Optional } from '../../controller-kit/optional.decorator.js';

export class VerifyQueryDto {
  @ApiPropertyOptional({
    description: 'Verify this stream only; the whole store when absent',
    example: 'deal-0d5c7c4e-9b1a-4f4e-8d7e-2b1f0c3a9e11',
  })
  @Optional()
  @IsString()
  @Matches(/^[\x21-\x7e]{1,512}$/, { message: '$property must be a stream id (1–512 visible ASCII characters)' })
  stream?: string;
}
