import { useEffect } from 'react';
import { runCommand, type Command } from './commands';
import { VIEWS, useUi } from '../state/ui';

const isMac = typeof navigator !== 'undefined' && /Mac|iPhone|iPad/.test(navigator.platform);

/** Inputs where keys are not text: shortcuts still apply while one has focus. */
const NON_TEXT_INPUTS = new Set(['checkbox', 'radio', 'range', 'button', 'submit', 'reset', 'file', 'color']);

const typingInto = (t: EventTarget | null) =>
  t instanceof HTMLElement &&
  (t.isContentEditable ||
    t.tagName === 'TEXTAREA' ||
    t.tagName === 'SELECT' ||
    (t instanceof HTMLInputElement && !NON_TEXT_INPUTS.has(t.type)));

/** Maps a key press to what it does, or undefined; exported for the help panel and tests. */
export function shortcutFor(
  e: Pick<KeyboardEvent, 'key' | 'ctrlKey' | 'metaKey' | 'altKey'>,
  typing: boolean,
): { command: Command } | { view: (typeof VIEWS)[number] } | undefined {
  if ((e.ctrlKey || e.metaKey) && e.key === 'Enter') return { command: 'run' };
  const mod = isMac ? e.metaKey : e.ctrlKey;
  if (mod && !e.altKey) {
    const k = e.key.toLowerCase();
    if (k === 'o') return { command: 'open' };
    if (k === 's') return { command: 'save' };
    return undefined;
  }
  if (e.key === 'Escape') return { command: 'cancel' };
  if (typing || e.ctrlKey || e.metaKey || e.altKey) return undefined;
  const n = Number(e.key);
  if (Number.isInteger(n) && n >= 1 && n <= VIEWS.length) return { view: VIEWS[n - 1]! };
  if (e.key === '+' || e.key === '=') return { command: 'zoom-in' };
  if (e.key === '-' || e.key === '_') return { command: 'zoom-out' };
  if (e.key === '0') return { command: 'zoom-fit' };
  return undefined;
}

export const SHORTCUT_HELP: readonly [string, string][] = [
  [`${isMac ? '⌘' : 'Ctrl'}+O`, 'Open images'],
  [`${isMac ? '⌘' : 'Ctrl'}+S`, 'Save the result'],
  [`${isMac ? '⌘' : 'Ctrl'}+Enter`, 'Run'],
  ['Esc', 'Cancel the running job'],
  ['1 – 5', 'Upscale, Compare, Batch, Wizard, Settings'],
  ['+ / −', 'Zoom in / out (compare)'],
  ['0', 'Fit to window (compare)'],
];

/** Global keyboard shortcuts: views by number, commands for the view on screen. */
export function useShortcuts(): void {
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.defaultPrevented) return;
      const typing = typingInto(e.target);
      const s = shortcutFor(e, typing);
      if (!s) return;
      if ('view' in s) {
        useUi.getState().setView(s.view);
        e.preventDefault();
      } else if (runCommand(s.command) || s.command === 'open' || s.command === 'save') {
        // Always swallow Ctrl+O/S so the browser's own dialogs never open over the app.
        e.preventDefault();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);
}
