import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { getClient } from './api/client';
import { App } from './app/App';
import './styles.css';

const root = createRoot(document.getElementById('root')!);
try {
  root.render(
    <StrictMode>
      <App client={getClient()} />
    </StrictMode>,
  );
} catch (e) {
  root.render(
    <p role="alert" className="fatal">
      {(e as Error).message}
    </p>,
  );
}
