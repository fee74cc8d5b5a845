import { useMemo, useState } from 'react';
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
