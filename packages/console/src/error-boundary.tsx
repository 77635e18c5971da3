import { Component, type ReactNode } from 'react';
import { Link, useLocation } from 'react-router';

/**
 * What a page that crashed while rendering shows instead of a blank console: what happened,
 * Reload and a way home. A page's code that no longer loads (a deploy replaced its lazy chunk)
 * lands here too, and then only a reload fetches the new one.
 */
export function PageError({ error }: { error: unknown }) {
  const message = error instanceof Error ? error.message : String(error);
  return (
    <div>
      <h1>Something went wrong</h1>
      <p role="alert" className="form-error">
        This page stopped working: {message}
      </p>
      <p>Reloading usually fixes it (the console may have been updated since you opened it).</p>
      <div className="actions">
        <button type="button" onClick={() => window.location.reload()}>
          Reload
        </button>
        <Link to="/">Go to the dashboard</Link>
      </div>
    </div>
  );
}

interface Props {
  /** A change of it (the route) clears the error: following the link home leaves the broken page. */
  resetKey: string;
  /** Outside the layout: the message is the page's main content itself. */
  standalone: boolean;
  children: ReactNode;
}

interface State {
  error?: { value: unknown };
}

class Boundary extends Component<Props, State> {
  override state: State = {};

  static getDerivedStateFromError(value: unknown): State {
    return { error: { value } };
  }

  override componentDidUpdate(prevProps: Props, prevState: State) {
    // Only an error already shown is cleared: one raised by this very navigation stays.
    if (prevState.error && this.state.error && prevProps.resetKey !== this.props.resetKey) this.setState({ error: undefined });
  }

  override render() {
    const { error } = this.state;
    if (!error) return this.props.children;
    if (!this.props.standalone) return <PageError error={error.value} />;
    return (
      <main id="main" className="auth">
        <PageError error={error.value} />
      </main>
    );
  }
}

/**
 * Catches a render error (or a lazy page that failed to load) below it, until the route changes.
 * Around each page inside the layout (the navigation stays), and around the whole app for the
 * pages outside it (sign-in and the like) and the layout itself (`standalone`).
 */
export function RouteErrorBoundary({ standalone = false, children }: { standalone?: boolean; children: ReactNode }) {
  return (
    <Boundary resetKey={useLocation().pathname} standalone={standalone}>
      {children}
    </Boundary>
  );
}
