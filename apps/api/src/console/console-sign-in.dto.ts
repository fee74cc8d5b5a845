import { ApiProperty } from '@nestjs/swagger';
import { IsString, Matches } from 'class-validator';

export class ConsoleSignInDto {
  @ApiProperty({
    description:
      'The code from the fragment of the sign-in URL `npm start` printed (`#sign-in=<code>`): 43 base64url characters',
    pattern: '^[A-Za-z0-9_-]{43}$',
  })
  @IsString()
  @Matches(/^[A-Za-z0-9_-]{43}$/, { message: 'code must be the 43 base64url characters of the sign-in URL' })
  code!: string;
}

export class ConsoleSessionDto {
  @ApiProperty({ description: 'A bearer token for the console: keep it in the tab (session storage), never in a URL' })
  token!: string;
  @ApiProperty({ example: 'console-admin' })
  subject!: string;
  @ApiProperty({ type: [String], example: ['admin'] })
  roles!: string[];
  @ApiProperty({
    format: 'date-time',
    description: 'When the token expires (12 h after `npm start` printed the URL, or AUTH_MAX_TOKEN_LIFETIME)',
  })
  expiresAt!: string;
}
