import { useEffect, useMemo, useState } from 'react';
import { apiFor, problemText } from './api.js';
import { createDealstreamClient } from '@dealstream/client';
import { BoardPage } from './board/board-page.js';
import { DealPage } from './deal/deal-page.js';
import { FunnelPage } from './reports/funnel-page.js';
import { Home } from './home.js';
import { useRoute } from './route.js';
import { forgetToken, sessionOf, storedToken, storeToken, takeSignInCodeFromUrl, type Session } from './session.js';
import { SignIn } from './sign-in.js';

interface SessionState {
  session?: Session;
  message?: string;
  /** The one-time code of the printed sign-in URL, being traded for a token. */
  signInCode?: string;
}

function initialSession(): SessionState {
  const signInCode = takeSignInCodeFromUrl();
  if (signInCode) return { signInCode };
  const token = storedToken();
  if (!token) return {};
  const session = sessionOf(token);
  if (typeof session === 'string') {
    forgetToken();
    return { message: session };
  }
  storeToken(session.token);
  return { session };
}

export function App() {
  const [state, setState] = useState<SessionState>(initialSession);
  const route = useRoute();
  const api = useMemo(() => (state.session ? apiFor(state.session.token) : undefined), [state.session]);

  // The API refuses an expired token on every call: sign out when it expires, saying why.
  const expiresAt = state.session?.expiresAt.getTime();
  useEffect(() => {
    if (expiresAt === undefined) return;
    const timer = setTimeout(
      () => {
        forgetToken();
        setState({ message: 'Your token expired; sign in again with a new one.' });
      },
      Math.min(Math.max(0, expiresAt - Date.now()), 2 ** 31 - 1),
    );
    return () => clearTimeout(timer);
  }, [expiresAt]);

  // The printed sign-in URL: trade its one-time code for a token, once.
  const signInCode = state.signInCode;
  useEffect(() => {
    if (!signInCode) return;
    void (async () => {
      const client = createDealstreamClient({ baseUrl: window.location.origin });
      const answer = await client
        .POST('/console/sign-in', { body: { code: signInCode } })
        .catch((error: unknown) => ({ data: undefined, error, response: undefined }));
      if (!answer.data) {
        setState({ message: problemText(answer.error, answer.response?.status) });
        return;
      }
      const session = sessionOf(answer.data.token);
      if (typeof session === 'string') {
        setState({ message: session });
        return;
      }
      storeToken(session.token);
      setState({ session });
    })();
  }, [signInCode]);

  if (signInCode)
    return (
      <main className="sign-in">
        <p role="status">Signing in…</p>
      </main>
    );
  if (!state.session || !api)
    return (
      <SignIn
        message={state.message}
        onSignIn={(session) => {
          storeToken(session.token);
          setState({ session });
        }}
      />
    );
  const session = state.session;
  const signOut = (message?: string) => {
    forgetToken();
    setState(message ? { message } : {});
  };
  return (
    <>
      <header className="top">
        <a href="#/" className="brand">
          dealstream
        </a>
        <span className="who" aria-label="Signed in as">
          {session.subject} · {session.roles.join(', ')}
        </span>
        <button type="button" onClick={() => signOut()}>
          Sign out
        </button>
      </header>
      <main>
        {route.page === 'board' ? (
          <BoardPage key={route.pipelineId} api={api} session={session} pipelineId={route.pipelineId} />
        ) : route.page === 'funnel' ? (
          <FunnelPage key={route.pipelineId} api={api} pipelineId={route.pipelineId} />
        ) : route.page === 'deal' ? (
          <DealPage key={route.dealId} api={api} session={session} dealId={route.dealId} />
        ) : (
          <Home api={api} session={session} />
        )}
      </main>
    </>
  );
}
