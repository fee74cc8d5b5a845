import { useState, type FormEvent } from 'react';
import { sessionOf, type Session } from './session.js';

export function SignIn({ message, onSignIn }: { message?: string; onSignIn: (session: Session) => void }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState(message);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const session = sessionOf(token);
    if (typeof session === 'string') setError(session);
    else onSignIn(session);
  };
  return (
    <main className="sign-in">
      <h1>dealstream console</h1>
      <form onSubmit={submit}>
        <label htmlFor="token">Bearer token</label>
        <textarea
          id="token"
          rows={4}
          value={token}
          onChange={(event) => setToken(event.target.value)}
          placeholder="eyJhbGciOi…"
          autoComplete="off"
          spellCheck={false}
        />
        <button type="submit">Sign in</button>
        {error && (
          <p role="alert" className="error">
            {error}
          </p>
        )}
      </form>
      <p className="hint">
        Get a token with <code>npm run --silent token -- --sub alice --roles sales,ops</code>. On the embedded default,{' '}
        <code>npm start</code> prints a sign-in URL that opens this page signed in, once (a used URL signs nobody in;
        restart to get a new one). The token stays in this tab only (session storage).
      </p>
    </main>
  );
}
