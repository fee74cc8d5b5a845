import { useEffect, useMemo, useState } from 'react';
import { apiFor } from './api.js';
import { BoardPage } from './board/board-page.js';
import { DealPage } from './deal/deal-page.js';
import { FunnelPage } from './reports/funnel-page.js';
import { Home } from './home.js';
import { useRoute } from './route.js';
import { forgetToken, sessionOf, storedToken, storeToken, takeTokenFromUrl, type Session } from './session.js';
import { SignIn } from './sign-in.js';

function initialSession(): { session?: Session; message?: string } {
  const fromUrl = takeTokenFromUrl();
  const token = fromUrl ?? storedToken();
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
  const [state, setState] = useState(initialSession);
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
