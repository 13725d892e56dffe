import { css, html, LitElement } from 'lit';
import { customElement, property } from 'lit/decorators.js';

/**
 * Shown instead of the run controls when this browser cannot give the lab a WebGPU device: what is missing and
 * which browsers and flags work. The setup form stays usable, so a link can still be prepared and shared.
 */
@customElement('gpu-notice')
export class GpuNotice extends LitElement {
  static override styles = css`
    :host {
      display: block;
      border: 2px solid var(--warn);
      background: var(--warn-bg);
      border-radius: 8px;
      padding: 0.75rem 1rem;
    }
    h2 {
      margin: 0 0 0.4rem;
      font-size: 1.1rem;
    }
    p,
    ul {
      margin: 0.3rem 0;
    }
    code {
      font-family: var(--mono);
    }
  `;

  /** What failed, in the browser's or the lab's words. */
  @property() reason = '';

  override render() {
    return html`<h2>This page needs WebGPU, and this browser did not provide it</h2>
      <p><strong>What is missing:</strong> ${this.reason}</p>
      <p>Training runs on your own GPU through WebGPU. Browsers that have it:</p>
      <ul>
        <li>Chrome or Edge 113 or newer (Windows, macOS, ChromeOS, Android).</li>
        <li>Safari 26 or newer (macOS, iOS, iPadOS).</li>
        <li>Firefox 141 or newer on Windows.</li>
        <li>
          Chrome on Linux: start it with <code>--enable-unsafe-webgpu</code> (and
          <code>--enable-features=Vulkan</code> if needed), or enable <code>chrome://flags/#enable-unsafe-webgpu</code>.
        </li>
      </ul>
      <p>
        WebGPU also needs a secure page (https or localhost), and a GPU driver the browser has not blocked; check
        <code>chrome://gpu</code> in Chrome. You can still set up an experiment below and copy its link.
      </p>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'gpu-notice': GpuNotice;
  }
}
