// Sharing the viewer link: a Copy button and a QR code for phones. The QR code is drawn as one
// SVG path from the vendored qrcode-generator's modules, with DOM calls only (no markup strings).
import qrcode from '../vendor/qrcode.js';

const SVG = 'http://www.w3.org/2000/svg';
/** Light modules around the code, as the QR specification asks (four modules wide). */
const QUIET = 4;

/**
 * Replaces the contents of `container` with a QR code of `text`.
 * @param {HTMLElement} container
 * @param {string} text
 * @param {string} label what a screen reader says for the image
 */
export function drawQr(container, text, label) {
  // Type 0 picks the smallest version that holds the text; M corrects ~15% damage.
  const qr = qrcode(0, 'M');
  qr.addData(text);
  qr.make();
  const n = qr.getModuleCount();
  let d = '';
  for (let row = 0; row < n; row += 1) {
    for (let col = 0; col < n; col += 1) {
      if (qr.isDark(row, col)) d += `M${col + QUIET} ${row + QUIET}h1v1h-1z`;
    }
  }
  const size = n + 2 * QUIET;
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', `0 0 ${size} ${size}`);
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', label);
  svg.setAttribute('shape-rendering', 'crispEdges');
  const background = document.createElementNS(SVG, 'rect');
  background.setAttribute('width', String(size));
  background.setAttribute('height', String(size));
  background.setAttribute('fill', '#fff');
  const modules = document.createElementNS(SVG, 'path');
  modules.setAttribute('d', d);
  modules.setAttribute('fill', '#000');
  svg.append(background, modules);
  container.replaceChildren(svg);
  container.dataset.modules = String(n);
}

/**
 * Copies `input`'s text to the clipboard and says so in `note` (a live region).
 * @param {HTMLInputElement} input
 * @param {HTMLElement} note
 * @returns {Promise<boolean>} whether it was copied
 */
export async function copyLink(input, note) {
  try {
    await navigator.clipboard.writeText(input.value);
    note.textContent = 'Link copied.';
    note.dataset.copied = 'true';
    return true;
  } catch {
    // No clipboard access (an insecure origin, a denied permission): leave the link selected.
    input.focus();
    input.select();
    note.textContent = 'Could not copy: the link is selected, copy it with your keyboard or menu.';
    note.dataset.copied = 'false';
    return false;
  }
}
