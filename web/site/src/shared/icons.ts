// The site's identity and icons as inline SVG strings (currentColor, so they follow the theme). The logo: three
// tokens in a row, the last one — the next token the model is about to write — lit in the spark colour.
export const logo = `<svg viewBox="0 0 32 32" aria-hidden="true" focusable="false">
<rect width="32" height="32" rx="8" fill="#3451d1"/>
<circle cx="8.5" cy="16" r="2.6" fill="#ffffff" fill-opacity="0.55"/>
<circle cx="15" cy="16" r="2.6" fill="#ffffff" fill-opacity="0.85"/>
<rect x="19.5" y="11.5" width="8" height="9" rx="2" fill="#f2a516"/>
</svg>`;

// The same mark as a data: URL for the favicon.
export const logoDataUrl = `data:image/svg+xml,${encodeURIComponent(logo.replace(' aria-hidden="true" focusable="false"', ' xmlns="http://www.w3.org/2000/svg"'))}`;

const icon = (paths: string) =>
  `<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true" focusable="false">${paths}</svg>`;

export const icons = {
  sun: icon('<circle cx="12" cy="12" r="4"/><path d="M12 2v2M12 20v2M4.9 4.9l1.4 1.4M17.7 17.7l1.4 1.4M2 12h2M20 12h2M4.9 19.1l1.4-1.4M17.7 6.3l1.4-1.4"/>'),
  moon: icon('<path d="M21 12.8A9 9 0 1 1 11.2 3a7 7 0 0 0 9.8 9.8z"/>'),
  menu: icon('<path d="M4 6h16M4 12h16M4 18h16"/>'),
  close: icon('<path d="M6 6l12 12M18 6L6 18"/>'),
  copy: icon('<rect x="9" y="9" width="12" height="12" rx="2"/><path d="M5 15V5a2 2 0 0 1 2-2h10"/>'),
  check: icon('<path d="M5 12l5 5L20 7"/>'),
  play: icon('<path d="M7 4l13 8-13 8z"/>'),
  stop: icon('<rect x="6" y="6" width="12" height="12" rx="1.5"/>'),
  chart: icon('<path d="M3 3v18h18"/><path d="M7 15l4-5 4 3 5-7"/>'),
  chat: icon('<path d="M21 12a8 8 0 0 1-11.6 7.1L4 20l1-4.6A8 8 0 1 1 21 12z"/>'),
  send: icon('<path d="M22 2L11 13M22 2l-7 20-4-9-9-4z"/>'),
  download: icon('<path d="M12 3v12M7 10l5 5 5-5M5 21h14"/>'),
  upload: icon('<path d="M12 21V9M7 14l5-5 5 5M5 3h14"/>'),
  trash: icon('<path d="M4 7h16M10 11v6M14 11v6M6 7l1 13h10l1-13M9 7V4h6v3"/>'),
};
