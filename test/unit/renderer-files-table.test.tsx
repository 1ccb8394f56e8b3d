// @vitest-environment jsdom
import { cleanup, render, screen, within } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { FilesTable } from '../../renderer/views/batch/FilesTable';

const LABELS = { waiting: 'Waiting', done: 'Done', failed: 'Failed' } as const;

/** Each row as [data-state, cells' text, cells' titles]. */
function rows(table: HTMLElement) {
  return within(table)
    .getAllByRole('row')
    .slice(1)
    .map((r) => [
      r.dataset.state,
      within(r)
        .getAllByRole('cell')
        .map((c) => c.textContent),
      within(r)
        .getAllByRole('cell')
        .map((c) => c.getAttribute('title')),
    ]);
}

describe('FilesTable', () => {
  afterEach(cleanup);

  it('heads the columns File, Status, Output / reason', () => {
    render(<FilesTable files={[]} labels={LABELS} />);
    const table = screen.getByRole('table', { name: 'Files' });
    expect(
      within(table)
        .getAllByRole('columnheader')
        .map((h) => h.textContent),
    ).toEqual(['File', 'Status', 'Output / reason']);
    expect(rows(table)).toEqual([]);
  });

  it('shows each file by name with its state, its output (and worker) or the reason it failed', () => {
    render(
      <FilesTable
        labels={LABELS}
        files={[
          { input: '/in/a.png', state: 'done', output: '/out/a_m_x2.png', worker: 'box-1' },
          { input: '/in/b.jpg', state: 'done', output: '/out/b_m_x2.jpg' },
          { input: '/in/c.png', state: 'failed', reason: 'not an image', output: '/out/c_m_x2.png' },
          { input: '/in/d.png', state: 'waiting' },
        ]}
      />,
    );
    const table = screen.getByRole('table', { name: 'Files' });
    expect(rows(table)).toEqual([
      ['done', ['a.png', 'Done', 'a_m_x2.png (on box-1)'], ['/in/a.png', null, '/out/a_m_x2.png']],
      ['done', ['b.jpg', 'Done', 'b_m_x2.jpg'], ['/in/b.jpg', null, '/out/b_m_x2.jpg']],
      ['failed', ['c.png', 'Failed', 'not an image'], ['/in/c.png', null, '/out/c_m_x2.png']],
      ['waiting', ['d.png', 'Waiting', ''], ['/in/d.png', null, null]],
    ]);
    expect(within(table).getByText('Failed').className).toBe('state-pill failed');
  });
});
