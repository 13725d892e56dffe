// Layout of the page: the setup column beside the run's views, stacking on narrow screens.
import { css } from 'lit';

/** A panel of the page with its heading (the page's columns and <run-views> share it). */
/** Every button of the page looks and focuses alike (shared by all components' shadow roots). */
export const buttonStyles = css`
  button {
    font: inherit;
    color: inherit;
    background: var(--button-bg);
    border: 1px solid var(--border-strong);
    border-radius: 6px;
    padding: 0.25rem 0.75rem;
    cursor: pointer;
  }
  button:disabled {
    opacity: 0.45;
    cursor: not-allowed;
  }
  button:focus-visible {
    outline: 2px solid var(--focus);
    outline-offset: 2px;
  }
`;

export const sectionStyles = css`
  h2 {
    font-size: 1.1rem;
    margin: 0 0 0.5rem;
  }
  section {
    background: var(--panel);
    border: 1px solid var(--border);
    border-radius: 8px;
    padding: 0.75rem 1rem;
    min-width: 0;
  }
`;

export const appStyles = [
  sectionStyles,
  buttonStyles,
  css`
    :host {
      display: block;
      max-width: 1600px;
      margin: 0 auto;
      padding: 0.75rem 1.25rem 2rem;
    }
    header h1 {
      margin: 0;
      font-size: 1.5rem;
    }
    .lede {
      margin: 0.2rem 0 0;
      max-width: 70ch;
    }
    .adapter {
      margin: 0.2rem 0 0.75rem;
      font-size: 0.85rem;
      color: var(--muted);
      min-height: 1.2em;
    }
    main {
      display: grid;
      grid-template-columns: minmax(20rem, 26rem) minmax(0, 1fr);
      gap: 1.25rem;
      align-items: start;
    }
    @media (max-width: 900px) {
      main {
        grid-template-columns: minmax(0, 1fr);
      }
    }
    .column {
      display: grid;
      gap: 1rem;
      min-width: 0;
    }
    .seeds {
      display: flex;
      flex-wrap: wrap;
      gap: 0.25rem 0.6rem;
      align-items: baseline;
      margin-top: 0.75rem;
      font-size: 0.9rem;
    }
    .seeds input {
      font: inherit;
      width: 8rem;
      padding: 0.2rem 0.4rem;
      color: inherit;
      background: var(--input-bg, transparent);
      border: 1px solid var(--border-strong);
      border-radius: 4px;
    }
    .seeds input[aria-invalid='true'] {
      border-color: var(--bad);
    }
    .seeds .note {
      color: var(--muted);
      font-size: 0.85rem;
    }
    .seeds .problem {
      color: var(--bad);
      font-size: 0.85rem;
    }
    run-options {
      margin-top: 0.75rem;
      padding-top: 0.5rem;
      border-top: 1px solid var(--border);
    }
    .banner,
    gpu-notice {
      margin-bottom: 1rem;
    }
    .banner {
      border-radius: 8px;
      padding: 0.5rem 1rem;
      border: 2px solid;
    }
    .banner.warn {
      border-color: var(--warn);
      background: var(--warn-bg);
    }
    .banner.bad {
      border-color: var(--bad);
      background: var(--bad-bg);
    }
    .banner p,
    .banner ul {
      margin: 0.25rem 0;
    }
  `,
];
