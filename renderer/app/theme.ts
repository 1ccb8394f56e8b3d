import { useEffect, useState } from 'react';
import type { Settings } from '../api/client';

const query = '(prefers-color-scheme: dark)';

function systemDark(): boolean {
  return typeof matchMedia === 'function' && matchMedia(query).matches;
}

/** Resolves the theme setting against the OS and puts it on <html data-theme>. */
export function useTheme(setting: Settings['theme'] | undefined): 'light' | 'dark' {
  const [dark, setDark] = useState(systemDark);
  useEffect(() => {
    if (typeof matchMedia !== 'function') return;
    const mq = matchMedia(query);
    const on = () => setDark(mq.matches);
    mq.addEventListener('change', on);
    return () => mq.removeEventListener('change', on);
  }, []);
  const theme = setting === 'light' || setting === 'dark' ? setting : dark ? 'dark' : 'light';
  useEffect(() => {
    document.documentElement.dataset.theme = theme;
  }, [theme]);
  return theme;
}
