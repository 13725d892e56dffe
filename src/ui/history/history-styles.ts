// The run history's table, its prompts and its overlaid charts.
import { css } from 'lit';

export const historyStyles = css`
  :host {
    display: block;
    font-size: 0.9rem;
  }
  .scroll {
    overflow-x: auto;
  }
  table {
    border-collapse: collapse;
    font-size: 0.85rem;
  }
  th,
  td {
    text-align: left;
    padding: 0.2rem 0.5rem;
    border-bottom: 1px solid var(--border);
    vertical-align: top;
  }
  th button {
    padding: 0 0.2rem;
    border: none;
    background: none;
    font-weight: 600;
  }
  td.diff {
    font-family: var(--mono);
  }
  .muted {
    color: var(--muted);
  }
  .problem {
    color: var(--danger, #b00020);
  }
  .bar {
    display: flex;
    flex-wrap: wrap;
    gap: 0.4rem;
    align-items: center;
    margin: 0.5rem 0;
  }
  .ask {
    border: 1px solid var(--border-strong);
    border-radius: 6px;
    padding: 0.5rem;
    margin: 0.5rem 0;
  }
  .charts {
    display: grid;
    grid-template-columns: repeat(auto-fit, minmax(22rem, 1fr));
    gap: 1rem;
    margin-top: 0.5rem;
  }
`;
