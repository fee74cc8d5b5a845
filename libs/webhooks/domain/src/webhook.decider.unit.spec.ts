import { DeciderSpec } from '@dealstream/decider/testing';
import { webhookDecider } from './webhook.decider.js';
import type { RegisterWebhook, WebhookCommand } from './webhook.commands.js';
import type { WebhookSubscriptionPaused, WebhookSubscriptionRegistered } from './webhook.events.js';

const register: RegisterWebhook = {
  type: 'RegisterWebhook',
  data: {
    subscriptionId: 's1',
    url: 'https://hooks.example.com/dealstream',
    eventTypes: ['DealWon', 'DealWon', 'DealLost'],
    categories: ['deal'],
    description: ' forecast sync ',
    secretId: 'k1',
    secretFingerprint: 'abcd',
  },
};
const registered: WebhookSubscriptionRegistered = {
  type: 'WebhookSubscriptionRegistered',
  data: {
    subscriptionId: 's1',
    url: 'https://hooks.example.com/dealstream',
    eventTypes: ['DealWon', 'DealLost'],
    categories: ['deal'],
    description: 'forecast sync',
    secretId: 'k1',
    secretFingerprint: 'abcd',
  },
};
const paused: WebhookSubscriptionPaused = {
  type: 'WebhookSubscriptionPaused',
  data: { reason: 'failing', failures: 15, lastError: 'HTTP 500' },
};
const deleted = { type: 'WebhookSubscriptionDeleted' as const, data: {} };

describe('webhook subscription decider', () => {
  describe('when unregistered', () => {
    it('registers with filters deduplicated and the description trimmed', () => {
      DeciderSpec.for(webhookDecider).given([]).when(register).then([registered]);
    });

    it('refuses a URL that is not http(s), carries credentials or a fragment, and bad filter names, all at once', () => {
      DeciderSpec.for(webhookDecider)
        .given([])
        .when({
          ...register,
          data: { ...register.data, url: 'ftp://u:p@example.com/#x', eventTypes: ['deal won'], categories: ['Deal'] },
        })
        .thenThrows('invalid-webhook', {
          kind: 'invalid',
          details: {
            problems: [
              'url must be http or https',
              'url must not carry credentials',
              'url must not carry a fragment',
              'not event type names: deal won',
              'not stream categories: Deal',
            ],
          },
        });
      DeciderSpec.for(webhookDecider)
        .given([])
        .when({ ...register, data: { ...register.data, url: 'hooks.example.com' } })
        .thenThrows('invalid-webhook', { details: { problems: ['url is not an absolute URL'] } });
    });
  });

  describe('when active', () => {
    it('refuses a second registration', () => {
      DeciderSpec.for(webhookDecider)
        .given([registered])
        .when(register)
        .thenThrows('webhook-already-registered', { kind: 'conflict' });
    });

    it('pauses; a resume without a cursor is refused, a replay from a cursor is not', () => {
      DeciderSpec.for(webhookDecider)
        .given([registered])
        .when({ type: 'PauseWebhook', data: paused.data })
        .then([paused]);
      DeciderSpec.for(webhookDecider)
        .given([registered])
        .when({ type: 'ResumeWebhook', data: { fromPosition: null } })
        .thenThrows('webhook-not-paused', { kind: 'conflict' });
      DeciderSpec.for(webhookDecider)
        .given([registered])
        .when({ type: 'ResumeWebhook', data: { fromPosition: '0000000000000000-0000000000000000' } })
        .then([{ type: 'WebhookSubscriptionResumed', data: { fromPosition: '0000000000000000-0000000000000000' } }]);
    });
  });

  describe('when rotating the secret', () => {
    it('records the new secret id and fingerprint, active or paused', () => {
      const rotate = { type: 'RotateWebhookSecret' as const, data: { secretId: 'k2', secretFingerprint: 'ef01' } };
      DeciderSpec.for(webhookDecider)
        .given([registered])
        .when(rotate)
        .then([{ type: 'WebhookSecretRotated', data: { secretId: 'k2', secretFingerprint: 'ef01' } }]);
      DeciderSpec.for(webhookDecider)
        .given([registered, paused])
        .when(rotate)
        .thenState({ secretId: 'k2', secretFingerprint: 'ef01', status: 'paused' });
    });
  });

  describe('when paused', () => {
    it('resumes from the checkpoint and refuses a second pause', () => {
      DeciderSpec.for(webhookDecider)
        .given([registered, paused])
        .when({ type: 'ResumeWebhook', data: { fromPosition: null } })
        .then([{ type: 'WebhookSubscriptionResumed', data: { fromPosition: null } }]);
      DeciderSpec.for(webhookDecider)
        .given([registered, paused])
        .when({ type: 'PauseWebhook', data: { reason: 'manual', failures: 0, lastError: null } })
        .thenThrows('webhook-already-paused', { kind: 'conflict' });
    });
  });

  describe('when deleted', () => {
    it('refuses everything', () => {
      const commands: WebhookCommand[] = [
        { type: 'PauseWebhook', data: { reason: 'manual', failures: 0, lastError: null } },
        { type: 'ResumeWebhook', data: { fromPosition: null } },
        { type: 'RotateWebhookSecret', data: { secretId: 'k2', secretFingerprint: 'ef01' } },
        { type: 'DeleteWebhook', data: {} },
      ];
      for (const command of commands) {
        DeciderSpec.for(webhookDecider)
          .given([registered, deleted])
          .when(command)
          .thenThrows('webhook-deleted', { kind: 'conflict' });
      }
    });
  });

  describe('when changing the target in place', () => {
    const change = (data: Partial<RegisterWebhook['data']>): WebhookCommand => ({ type: 'ChangeWebhook', data });

    it('records only the fields that differ, normalised as on registration', () => {
      DeciderSpec.for(webhookDecider)
        .given([registered])
        .when(change({ url: 'https://hooks.example.com/v2', eventTypes: ['DealLost', 'DealWon', 'DealWon'] }))
        .then([{ type: 'WebhookSubscriptionChanged', data: { url: 'https://hooks.example.com/v2' } }]);
    });

    it('folds the change over the registration: the secret and the status stay', () => {
      DeciderSpec.for(webhookDecider)
        .given([registered, paused])
        .when(change({ categories: ['deal', 'pipeline'], description: '  team sync ' }))
        .thenState({
          url: 'https://hooks.example.com/dealstream',
          eventTypes: ['DealWon', 'DealLost'],
          categories: ['deal', 'pipeline'],
          description: 'team sync',
          secretFingerprint: 'abcd',
          status: 'paused',
        });
    });

    it('records nothing when nothing differs (a retried change is not a second one)', () => {
      DeciderSpec.for(webhookDecider)
        .given([registered])
        .when(change({ url: 'https://hooks.example.com/dealstream', description: 'forecast sync' }))
        .thenNothingHappens();
    });

    it('refuses a target that breaks the rules, and a deleted subscription', () => {
      DeciderSpec.for(webhookDecider)
        .given([registered])
        .when(change({ url: 'https://u:p@hooks.example.com/' }))
        .thenThrows('invalid-webhook', { kind: 'invalid', details: { problems: ['url must not carry credentials'] } });
      DeciderSpec.for(webhookDecider)
        .given([registered, deleted])
        .when(change({ description: 'x' }))
        .thenThrows('webhook-deleted', { kind: 'conflict' });
    });
  });
});
