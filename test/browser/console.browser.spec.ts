import { join } from 'node:path';
import AxeBuilder from '@axe-core/playwright';
import type { BrowserContext, Locator, Page } from 'playwright-core';
import { createDealstreamClient } from '@dealstream/client';
import { ARTEFACTS, startConsoleHarness, type ConsoleHarness } from '../support/console-harness.js';

/**
 * The web console in a real headless Chromium (Debian's) against the API as `npm start` runs it:
 * sign in with the printed URL, create a pipeline and two deals through the UI, drag a deal across
 * two stages and read the column totals, two users move the same card (one is told someone else
 * changed it), the board as of an earlier instant, a sales token pasted in (no pipeline form), and
 * axe-core on every page (no serious or critical violation). Screenshots go to test-artifacts/console.
 * One browser for the whole file; a context per user.
 */
describe('web console in Chromium', () => {
  let harness: ConsoleHarness;
  let admin: BrowserContext;
  let page: Page;
  let pipelineUrl: string;
  let beforeMoves: string;

  beforeAll(async () => {
    harness = await startConsoleHarness();
    admin = await harness.browser.newContext({ timezoneId: 'UTC', viewport: { width: 1400, height: 900 } });
    page = await admin.newPage();
  }, 90_000);
  afterAll(async () => harness?.close());

  it('signs in with the URL npm start printed, once, and takes the code out of the address bar', async () => {
    await page.goto(harness.signInUrl);
    await page.getByRole('heading', { name: 'Pipelines' }).waitFor();
    expect(page.url()).toBe(`${harness.origin}/#/`);
    const token = await page.evaluate<string>('sessionStorage.getItem("dealstream.token")');
    const claims = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8'));
    expect(claims).toMatchObject({ sub: 'console-admin', roles: ['admin'] });
    await expect(page.getByLabel('Signed in as').textContent()).resolves.toBe('console-admin · admin');
    await page.getByText('No pipeline yet.').waitFor();
    await expectAccessible(page, 'home');

    // The same URL in another browser context (someone who found it in a terminal's scrollback) signs nobody in.
    const other = await harness.browser.newContext({ timezoneId: 'UTC' });
    try {
      const late = await other.newPage();
      await late.goto(harness.signInUrl);
      await late.getByRole('alert').waitFor();
      expect(await late.getByRole('alert').textContent()).toContain('used, expired or from before a restart');
      expect(await late.evaluate('sessionStorage.getItem("dealstream.token")')).toBeNull();
      expect(late.url()).toBe(`${harness.origin}/#/`);
    } finally {
      await other.close();
    }
  });

  it('creates a pipeline and two deals through the UI', async () => {
    await page.getByLabel('Name', { exact: true }).fill('Console e2e');
    await page.getByRole('button', { name: 'Create pipeline' }).click();
    await page.getByRole('heading', { name: 'Console e2e', level: 1 }).waitFor();
    pipelineUrl = page.url();
    expect(pipelineUrl).toMatch(/#\/pipelines\/[0-9a-f-]{36}$/);
    expect(await page.locator('section.column h2').allTextContents()).toEqual([
      'Lead 10%',
      'Qualified 25%',
      'Proposal 50%',
      'Negotiation 75%',
    ]);
    await page.getByRole('button', { name: 'New deal' }).click();
    await createDeal(page, 'Alpha rollout', 'ACME Corp', '1000');
    await createDeal(page, 'Beta pilot', 'Globex', '500');
    await expectColumn(page, 'Lead', { count: 2, amount: '€1,500.00', weighted: '€150.00' });
    const card = page.locator('li.deal', { hasText: 'Alpha rollout' });
    await expect(card.textContent()).resolves.toContain('ACME Corp€1,000.00console-admin · 0 d in stage');
  });

  it('drags a deal across two stages and the column totals follow', async () => {
    // The as-of test below looks at the board between the creations and the moves.
    await page.waitForTimeout(1100);
    beforeMoves = new Date(Math.floor(Date.now() / 1000) * 1000).toISOString().slice(0, 19);
    await page.waitForTimeout(1100);
    await drag(page, 'Alpha rollout', 'Qualified');
    await expectColumn(page, 'Lead', { count: 1, amount: '€500.00', weighted: '€50.00' });
    await expectColumn(page, 'Qualified', { count: 1, amount: '€1,000.00', weighted: '€250.00' });
    await drag(page, 'Alpha rollout', 'Proposal');
    await expectColumn(page, 'Qualified', { count: 0 });
    await expectColumn(page, 'Proposal', { count: 1, amount: '€1,000.00', weighted: '€500.00' });
    await expect(page.locator('.notice').textContent()).resolves.toBe('Moved “Alpha rollout” to Proposal.');
    await page.screenshot({ path: join(ARTEFACTS, 'board.png'), fullPage: true });
    await expectAccessible(page, 'board');
  });

  it('the deal page shows both moves in the timeline with actor, times and diffs; winning it moves the funnel and velocity', async () => {
    await page.getByRole('link', { name: 'Funnel versus pipeline' }).click();
    await page.getByRole('heading', { name: 'Funnel versus pipeline' }).waitFor();
    await expect(tile(page, 'Won').textContent()).resolves.toBe('Won0');
    await expect(tile(page, 'Opportunities').textContent()).resolves.toBe('Opportunities2');
    await page.goBack();
    await page.getByRole('link', { name: 'Alpha rollout' }).click();
    await page.getByRole('heading', { name: 'Alpha rollout', level: 1 }).waitFor();
    const moves = page.locator('.timeline > li[data-event-type="StageAdvanced"]');
    await moves.nth(1).waitFor();
    expect(await moves.count()).toBe(2);
    for (const move of await moves.all()) {
      await expect(move.locator('.actor').textContent()).resolves.toBe('console-admin');
      await expect(move.locator('time').first().getAttribute('datetime')).resolves.toMatch(/^\d{4}-\d\d-\d\dT/);
      await expect(move.locator('.diff th[scope="row"]', { hasText: /^stageId$/ }).count()).resolves.toBe(1);
    }
    // Newest first; stage ids read as the stages' names.
    const stageChange = (move: Locator) =>
      move.locator('.diff tr', { has: page.locator('th', { hasText: /^stageId$/ }) });
    await expect(stageChange(moves.nth(0)).locator('td').allTextContents()).resolves.toEqual(['Qualified', 'Proposal']);
    await expect(stageChange(moves.nth(1)).locator('td').allTextContents()).resolves.toEqual(['Lead', 'Qualified']);
    await expect(page.getByTestId('chain').textContent()).resolves.toMatch(/^verified: \d+ events, unbroken$/);
    await expectAccessible(page, 'deal');
    await page.screenshot({ path: join(ARTEFACTS, 'deal.png'), fullPage: true });
    await page.getByText('Win', { exact: true }).press('Enter'); // the disclosure, from the keyboard
    await page.getByRole('button', { name: 'Mark as won' }).press('Enter');
    await page.getByTestId('status').filter({ hasText: /^won$/ }).waitFor();
    await page.locator('.timeline > li[data-event-type="DealWon"] .actor', { hasText: 'console-admin' }).waitFor();
    await page.getByRole('link', { name: '← Board' }).click();
    await page.getByRole('link', { name: 'Funnel versus pipeline' }).click();
    await tile(page, 'Won')
      .filter({ hasText: /^Won1$/ })
      .waitFor();
    await expect(tile(page, 'Average won size (EUR)').textContent()).resolves.toBe('Average won size (EUR)€1,000.00');
    await page.locator('.chart canvas').first().waitFor();
    await expectAccessible(page, 'funnel');
    await page.screenshot({ path: join(ARTEFACTS, 'funnel.png'), fullPage: true });
    await page.goto(pipelineUrl);
    await expectColumn(page, 'Proposal', { count: 0 });
  });

  it('two users move the same card at once: one is told someone else changed it', async () => {
    const other = await harness.browser.newContext({ timezoneId: 'UTC', viewport: { width: 1400, height: 900 } });
    try {
      const ops = await signInByPasting(other, harness.origin, await harness.token(['ops'], 'olivia'));
      await ops.goto(pipelineUrl);
      await column(ops, 'Lead').locator('li.deal', { hasText: 'Beta pilot' }).waitFor();
      // Both boards show Beta pilot at the same revision; both move it now, to different stages.
      await Promise.all([
        moveWithKeyboard(page, 'Beta pilot', 'Negotiation'),
        moveWithKeyboard(ops, 'Beta pilot', 'Qualified'),
      ]);
      const conflict = (p: Page) =>
        p.getByText('“Beta pilot” was changed by someone else; the board now shows it as it is.');
      await Promise.race([conflict(page).waitFor(), conflict(ops).waitFor()]);
      const told = [await conflict(page).isVisible(), await conflict(ops).isVisible()];
      expect(told.filter(Boolean)).toHaveLength(1);
      // The loser's card snapped back to where the winner put it, on both boards.
      const winnerStage = told[0] ? 'Qualified' : 'Negotiation';
      for (const p of [page, ops])
        await column(p, winnerStage).locator('li.deal', { hasText: 'Beta pilot' }).waitFor({ timeout: 3000 });
      await expectColumn(page, 'Lead', { count: 0 });
      await expectColumn(ops, 'Lead', { count: 0 });
    } finally {
      await other.close();
    }
  });

  it('follows another user’s change within 2 s', async () => {
    const other = await harness.browser.newContext({ timezoneId: 'UTC' });
    try {
      const sales = await signInByPasting(other, harness.origin, await harness.token(['sales'], 'sam'));
      await sales.goto(pipelineUrl);
      await sales.locator('li.deal', { hasText: 'Beta pilot' }).waitFor();
      const started = Date.now();
      await moveWithKeyboard(sales, 'Beta pilot', 'Proposal');
      await column(page, 'Proposal').locator('li.deal', { hasText: 'Beta pilot' }).waitFor({ timeout: 2000 });
      expect(Date.now() - started).toBeLessThan(2000);
    } finally {
      await other.close();
    }
  });

  it('shows the board as it was before the moves, read-only', async () => {
    await page.getByLabel('As of').fill(beforeMoves);
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.getByText(/The board as it was at .* — read-only\./).waitFor();
    await expectColumn(page, 'Lead', { count: 2, amount: '€1,500.00', weighted: '€150.00' });
    await expectColumn(page, 'Proposal', { count: 0 });
    expect(await page.getByRole('button', { name: /^Drag / }).count()).toBe(0);
    expect(await page.getByRole('button', { name: 'New deal' }).count()).toBe(0);
    await page.screenshot({ path: join(ARTEFACTS, 'board-as-of.png'), fullPage: true });
    await page.getByRole('button', { name: 'Back to now' }).click();
    await expectColumn(page, 'Lead', { count: 0 });
  });

  it('pages a long column with "More" (keyset cursor) and filters by amount', async () => {
    const api = createDealstreamClient({ baseUrl: harness.origin, token: await harness.token(['admin'], 'loader') });
    const pipeline = await api.POST('/pipelines', {
      body: { name: 'Long column', currency: 'EUR', stages: [{ name: 'Only', probability: 20 }] },
    });
    let position = '';
    for (let i = 0; i < 52; i++) {
      const deal = await api.POST('/deals', {
        body: {
          pipelineId: pipeline.data!.id,
          title: `Bulk ${i}`,
          account: 'Bulk',
          amount: 10_000 + 100 * i,
          currency: 'EUR',
        },
      });
      position = deal.data!.position;
    }
    await api.GET('/pipelines/{id}/board', {
      params: { path: { id: pipeline.data!.id }, query: { minPosition: position } },
    });
    await page.goto(`${harness.origin}/#/pipelines/${pipeline.data!.id}`);
    await expectColumn(page, 'Only', { count: 52 });
    expect(await page.locator('li.deal').count()).toBe(50);
    // Largest first: Bulk 51 (€151.00) leads, Bulk 0 and 1 are on the next page.
    await expect(page.locator('li.deal .deal-title').first().textContent()).resolves.toBe('Bulk 51');
    await page.getByRole('button', { name: 'More (2 not shown)' }).click();
    await page.locator('li.deal').nth(51).waitFor();
    await expect(page.locator('li.deal .deal-title').last().textContent()).resolves.toBe('Bulk 0');
    expect(await page.getByRole('button', { name: /^More/ }).count()).toBe(0);
    await page.getByLabel('Min amount (EUR)').fill('150');
    await page.getByRole('button', { name: 'Apply' }).click();
    await expectColumn(page, 'Only', { count: 2, amount: '€301.00', weighted: '€60.20' });
    expect(await page.locator('li.deal').count()).toBe(2);
  });

  it('takes every deal-page action from the keyboard, each into the timeline; a stale page gets 412 and shows the deal as it is', async () => {
    const api = createDealstreamClient({
      baseUrl: harness.origin,
      token: await harness.token(['admin'], 'other-admin'),
    });
    const pipelineId = pipelineUrl.split('/').at(-1)!;
    const created = await api.POST('/deals', {
      body: { pipelineId, title: 'Gamma renewal', account: 'Gamma', amount: 100_000, currency: 'EUR' },
    });
    const dealId = created.data!.id;
    await api.GET('/deals/{id}', { params: { path: { id: dealId }, query: { minPosition: created.data!.position } } });
    await page.goto(`${harness.origin}/#/deals/${dealId}`);
    await page.getByRole('heading', { name: 'Gamma renewal', level: 1 }).waitFor();

    /** Opens an action's disclosure with Enter, fills it, submits with Enter, and waits for its notice. */
    const act = async (title: string, submit: string, done: string, fill?: (form: Locator) => Promise<void>) => {
      const form = page.locator('details.action', {
        has: page.locator('summary', { hasText: new RegExp(`^${title}$`) }),
      });
      // Enter toggles a disclosure: open it only when it is closed (a failed try leaves it open).
      if ((await form.getAttribute('open')) === null) await form.locator('summary').press('Enter');
      await fill?.(form);
      await form.getByRole('button', { name: submit }).press('Enter');
      await page
        .getByRole('status')
        .filter({ hasText: `${done}: done.` })
        .waitFor();
    };
    const inTimeline = (type: string) => page.locator(`.timeline > li[data-event-type="${type}"]`).first().waitFor();

    await act('Log activity', 'Log', 'Activity logged', async (form) => {
      await form.getByLabel('Kind').selectOption('meeting');
      await form.getByLabel('Note (optional)').fill('kick-off');
    });
    await inTimeline('ActivityLogged');
    await expect(field(page, 'Activities').textContent()).resolves.toBe('1');

    // Budget, authority and need are the gate: without authority the API refuses, and the page says why.
    const qualify = page.locator('details.action', { has: page.locator('summary', { hasText: /^Qualify \(BANT\)$/ }) });
    await qualify.locator('summary').press('Enter');
    await qualify.getByLabel('budget confirmed').press('Space');
    await qualify.getByLabel('need confirmed').press('Space');
    await qualify.getByRole('button', { name: 'Qualify' }).press('Enter');
    await page.getByRole('alert').filter({ hasText: 'Not confirmed: authority' }).waitFor();
    await qualify.getByLabel('authority confirmed').press('Space');
    await qualify.getByRole('button', { name: 'Qualify' }).press('Enter');
    await page.getByRole('status').filter({ hasText: 'Qualified: done.' }).waitFor();
    await inTimeline('DealQualified');
    await expect(field(page, 'Qualification').textContent()).resolves.toMatch(/"budget":\{"confirmed":true/);

    await act('Change amount, owner or close date', 'Save changes', 'Changed', async (form) => {
      await form.getByLabel('Amount (EUR)').fill('2500');
      await form.getByLabel('Owner').fill('olivia');
      await form.getByLabel('Expected close date').fill('2027-03-31');
    });
    await inTimeline('DealValueChanged');
    await inTimeline('DealOwnerReassigned');
    await expect(field(page, 'Amount').textContent()).resolves.toBe('€2,500.00');
    await expect(field(page, 'Owner').textContent()).resolves.toBe('olivia');
    await expect(field(page, 'Expected close').textContent()).resolves.toBe('2027-03-31');

    // Someone else changes the deal while this page shows it: the next action is refused (412, If-Match)
    // and the page reads the deal again — the other user's amount — without applying the loss.
    await api.PATCH('/deals/{id}', { params: { path: { id: dealId } }, body: { amount: 300_000 } });
    const lose = page.locator('details.action', { has: page.locator('summary', { hasText: /^Lose$/ }) });
    await lose.locator('summary').press('Enter');
    await lose.getByLabel('Reason').fill('price');
    await lose.getByRole('button', { name: 'Mark as lost' }).press('Enter');
    await page.getByRole('alert').filter({ hasText: 'changed by someone else' }).waitFor();
    await page.getByText('€3,000.00', { exact: true }).waitFor();
    await expect(page.getByTestId('status').textContent()).resolves.toBe('open');

    await act('Lose', 'Mark as lost', 'Lost', async (form) => {
      await form.getByLabel('Reason').fill('price');
      await form.getByLabel('Competitor (optional)').fill('Globex');
    });
    await page
      .getByTestId('status')
      .filter({ hasText: /^lost$/ })
      .waitFor();
    await expect(field(page, 'Reason').textContent()).resolves.toBe('price');
    await act('Reopen', 'Reopen', 'Reopened');
    await page
      .getByTestId('status')
      .filter({ hasText: /^open$/ })
      .waitFor();
    await inTimeline('DealReopened');
    await act('Win', 'Mark as won', 'Won');
    await page.getByTestId('status').filter({ hasText: /^won$/ }).waitFor();
    await act('Upsell or cross-sell', 'Create follow-on deal', 'Follow-on deal created', async (form) => {
      await form.getByLabel('Kind').selectOption('cross-sell');
      await form.getByLabel('Title').fill('Gamma analytics add-on');
      await form.getByLabel('Amount (EUR)').fill('400');
    });
    const board = await api.GET('/pipelines/{id}/board', { params: { path: { id: pipelineId } } });
    const followOn = board
      .data!.stages.flatMap((stage) => stage.deals)
      .find((d) => d.title === 'Gamma analytics add-on');
    expect(followOn).toMatchObject({ amount: 40_000, currency: 'EUR' });

    // Disqualifying, on a second deal: the last action the page offers.
    const second = await api.POST('/deals', {
      body: { pipelineId, title: 'Delta pilot', account: 'Delta', amount: 5_000, currency: 'EUR' },
    });
    await api.GET('/deals/{id}', {
      params: { path: { id: second.data!.id }, query: { minPosition: second.data!.position } },
    });
    await page.goto(`${harness.origin}/#/deals/${second.data!.id}`);
    await page.getByRole('heading', { name: 'Delta pilot', level: 1 }).waitFor();
    await act('Disqualify', 'Disqualify', 'Disqualified', async (form) => {
      await form.getByLabel('Reason').selectOption('no-budget');
    });
    await page
      .getByTestId('status')
      .filter({ hasText: /^disqualified$/ })
      .waitFor();
    await inTimeline('DealDisqualified');
    await expectAccessible(page, 'deal-disqualified');
  });

  it('drags a card with the keyboard (dnd-kit keyboard sensor): Space, arrows, Space', async () => {
    await page.goto(pipelineUrl);
    const card = column(page, 'Lead').locator('li.deal').first();
    const title = (await card.locator('.deal-title').textContent())!;
    const handle = page.getByRole('button', { name: `Drag ${title} to another stage` });
    await handle.focus();
    await page.keyboard.press('Space');
    const from = (await handle.boundingBox())!;
    const to = (await column(page, 'Qualified').boundingBox())!;
    // The keyboard sensor moves the card 25 px a press: far enough to sit over the next column.
    for (let moved = 0; moved < to.x + to.width / 2 - (from.x + from.width / 2); moved += 25)
      await page.keyboard.press('ArrowRight');
    await page.keyboard.press('Space');
    await column(page, 'Qualified').locator('li.deal', { hasText: title }).waitFor();
  });

  it('shows a refusal as the API’s problem, in words', async () => {
    await page.goto(`${harness.origin}/#/`);
    await page.getByRole('link', { name: 'Console e2e' }).waitFor(); // listed by GET /pipelines
    await page.getByLabel('Name', { exact: true }).fill('Bad currency');
    await page.getByLabel(/^Currency/).fill('QQQ'); // three letters, but not in ISO 4217: 422 invalid-currency
    await page.getByRole('button', { name: 'Create pipeline' }).click();
    await expect(page.getByRole('alert').textContent()).resolves.toBe(
      'Invalid currency: currency must be an active ISO 4217 code such as EUR', // the problem's title: detail
    );
  });

  it('a sales token gets no pipeline form; a malformed token a message; an expired one signs out', async () => {
    const other = await harness.browser.newContext({ timezoneId: 'UTC' });
    try {
      const sales = await signInByPasting(other, harness.origin, await harness.token(['sales'], 'sam'));
      await expect(sales.getByRole('heading', { name: 'New pipeline' }).count()).resolves.toBe(0);
      const shortLived = await signInByPasting(other, harness.origin, await harness.token(['sales'], 'sam', '3s'));
      await shortLived
        .getByRole('alert')
        .filter({ hasText: 'Your token expired; sign in again with a new one.' })
        .waitFor({ timeout: 6000 });
      const signIn = await other.newPage();
      await signIn.goto(harness.origin);
      await signIn.getByLabel('Bearer token').fill('not-a-token');
      await signIn.getByRole('button', { name: 'Sign in' }).click();
      await expect(signIn.getByRole('alert').textContent()).resolves.toBe(
        'That is not a token: a JWT has three parts separated by dots.',
      );
    } finally {
      await other.close();
    }
  });
});

function tile(page: Page, label: string): Locator {
  return page
    .locator('.tile')
    .filter({ has: page.locator('.tile-label', { hasText: new RegExp(`^${label.replace(/[()]/g, '\\$&')}$`) }) });
}

function column(page: Page, stage: string): Locator {
  return page.locator('section.column', { has: page.getByRole('heading', { name: new RegExp(`^${stage} `) }) });
}

async function expectColumn(
  page: Page,
  stage: string,
  expected: { count: number; amount?: string; weighted?: string },
) {
  const col = column(page, stage);
  await col
    .getByTestId('count')
    .filter({ hasText: new RegExp(`^${expected.count}$`) })
    .waitFor({ timeout: 5000 });
  if (expected.amount) {
    await col.locator('[data-currency="EUR"] [data-testid="amount"]', { hasText: expected.amount }).waitFor();
    await col.locator('[data-currency="EUR"] [data-testid="weighted"]', { hasText: expected.weighted }).waitFor();
  }
  if (expected.count === 0) expect(await col.locator('[data-currency]').count()).toBe(0);
}

async function createDeal(page: Page, title: string, account: string, amount: string) {
  await page.getByLabel('Title', { exact: true }).fill(title);
  await page.getByLabel('Account', { exact: true }).fill(account);
  await page.getByLabel('Amount (EUR)', { exact: true }).fill(amount);
  await page.getByRole('button', { name: 'Create deal' }).click();
  await page.locator('li.deal', { hasText: title }).waitFor();
}

/** A real pointer drag by the card's handle onto the target column (dnd-kit's pointer sensor). */
async function drag(page: Page, title: string, toStage: string) {
  const handle = page.getByRole('button', { name: `Drag ${title} to another stage` });
  const from = (await handle.boundingBox())!;
  const to = (await column(page, toStage).boundingBox())!;
  await page.mouse.move(from.x + from.width / 2, from.y + from.height / 2);
  await page.mouse.down();
  await page.mouse.move(from.x + 30, from.y + 10, { steps: 4 });
  await page.mouse.move(to.x + to.width / 2, to.y + 80, { steps: 12 });
  await page.mouse.up();
  await column(page, toStage).locator('li.deal', { hasText: title }).waitFor();
}

/** The keyboard path: the card's "move to stage" select, focused and changed with keys. */
async function moveWithKeyboard(page: Page, title: string, toStage: string) {
  const select = page.getByLabel(`Move ${title} to stage`);
  await select.focus();
  await select.selectOption({ label: toStage });
}

/** The other way in: paste a token into the sign-in form. */
async function signInByPasting(context: BrowserContext, origin: string, token: string): Promise<Page> {
  const page = await context.newPage();
  await page.goto(origin);
  await page.getByLabel('Bearer token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Pipelines' }).waitFor();
  return page;
}

async function expectAccessible(page: Page, name: string) {
  const results = await new AxeBuilder({ page }).analyze();
  const grave = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect(
    grave.map((v) => `${name}: ${v.id} (${v.impact}) ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`),
  ).toEqual([]);
}

/** A field of the deal page: the value (dd) after its label (dt). */
function field(page: Page, label: string): Locator {
  return page.locator('dl dt', { hasText: new RegExp(`^${label}$`) }).locator('xpath=following-sibling::dd[1]');
}
