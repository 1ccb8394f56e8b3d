// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen, within } from '@testing-library/react';
import { useState } from 'react';
import { afterEach, describe, expect, it } from 'vitest';
import { ScaleSelect } from '../../renderer/components/ScaleSelect';

/** Holds the value the way the views do (in a store), and records every change reported. */
function Harness({ start, changes }: { start: number; changes: number[] }) {
  const [scale, setScale] = useState(start);
  return (
    <>
      <ScaleSelect
        label="Test scale"
        value={scale}
        onChange={(s) => {
          changes.push(s);
          setScale(s);
        }}
      />
      <output aria-label="Chosen scale">{scale}</output>
    </>
  );
}

describe('ScaleSelect', () => {
  afterEach(cleanup);

  it('offers x2, x4 and x8 under its accessible name, with the pass count for repeated x2', () => {
    render(<Harness start={4} changes={[]} />);
    const select = screen.getByRole('combobox', { name: 'Test scale' }) as HTMLSelectElement;
    const options = within(select).getAllByRole('option') as HTMLOptionElement[];
    expect(options.map((o) => [o.value, o.textContent])).toEqual([
      ['2', 'x2'],
      ['4', 'x4 (2× x2 passes)'],
      ['8', 'x8 (3× x2 passes)'],
    ]);
    expect(select.value).toBe('4');
    expect((within(select).getByRole('option', { name: 'x4 (2× x2 passes)' }) as HTMLOptionElement).selected).toBe(true);
  });

  it('reports the chosen scale as a number and shows what its owner passes back', () => {
    const changes: number[] = [];
    render(<Harness start={2} changes={changes} />);
    const select = screen.getByRole('combobox', { name: 'Test scale' }) as HTMLSelectElement;
    fireEvent.change(select, { target: { value: '8' } });
    expect(changes).toEqual([8]);
    expect(typeof changes[0]).toBe('number');
    expect(select.value).toBe('8');
    expect(screen.getByRole('status', { name: 'Chosen scale' }).textContent).toBe('8');
    fireEvent.change(select, { target: { value: '2' } });
    expect(changes).toEqual([8, 2]);
  });

  it('stays on the value its owner holds when the owner ignores the change', () => {
    const changes: number[] = [];
    render(<ScaleSelect label="Fixed scale" value={2} onChange={(s) => changes.push(s)} />);
    const select = screen.getByRole('combobox', { name: 'Fixed scale' }) as HTMLSelectElement;
    fireEvent.change(select, { target: { value: '4' } });
    expect(changes).toEqual([4]);
    expect(select.value).toBe('2');
  });
});
