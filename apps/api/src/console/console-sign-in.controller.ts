import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Public } from '../auth/auth.decorators.js';
import { ApiProblemResponses } from '../controller-kit/api-docs.decorators.js';
import { NotKeyed } from '../idempotency/idempotency.interceptor.js';
import { ApiProblem } from '../problem/api-problem.js';
import { mergeProblems, VALIDATED } from '../problem/problem-catalogue.js';
import { ConsoleSessionDto, ConsoleSignInDto } from './console-sign-in.dto.js';
import { SignInCodes } from './sign-in-codes.js';

/** The console's one-time sign-in (sign-in-codes.ts): no token needed, the code is the credential. */
@ApiTags('console')
@Public()
@Controller('console')
export class ConsoleSignInController {
  constructor(private readonly codes: SignInCodes) {}

  @Post('sign-in')
  @HttpCode(200)
  @NotKeyed()
  @ApiOperation({
    summary: 'Trade the one-time code of the printed sign-in URL for a console token (embedded default only)',
    description:
      'On the embedded default with a generated secret, `npm start` prints `http://localhost:<port>/#sign-in=<code>`. The code is good once and for 12 h (a restart prints a new one); only the console calls this route. Elsewhere no code is offered and every code is refused.',
  })
  @ApiOkResponse({ type: ConsoleSessionDto })
  @ApiProblemResponses(mergeProblems(VALIDATED, { 401: ['sign-in-code-invalid'] }), {
    401: 'The code is wrong, used, expired or from before a restart: run `npm start` again, or paste a token',
  })
  async signIn(@Body() body: ConsoleSignInDto): Promise<ConsoleSessionDto> {
    const session = await this.codes.redeem(body.code);
    if (!session)
      throw new ApiProblem(
        401,
        'sign-in-code-invalid',
        'This sign-in URL is used, expired or from before a restart: open the URL `npm start` printed last, or sign in with a token',
      );
    return { ...session, roles: [...session.roles], expiresAt: session.expiresAt.toISOString() };
  }
}
