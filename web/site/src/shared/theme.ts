// Light or dark: the system's preference until the reader presses the header's toggle; the choice is kept in
// localStorage ('tinylm-theme') and applied before first paint by the inline script the Vite config puts in every
// page's <head> (themeBootScript). Canvas figures listen for 'tinylm-theme' events to redraw in the new colours.
const storageKey = 'tinylm-theme';
export const themeEvent = 'tinylm-theme';

// Runs inline in <head>, before the stylesheet applies: no flash of the wrong theme.
export const themeBootScript =
  `try{var t=localStorage.getItem('${storageKey}');if(t==='light'||t==='dark')document.documentElement.dataset.theme=t}catch(e){}`;

const systemDark = () => window.matchMedia('(prefers-color-scheme: dark)');

export function currentTheme(): 'light' | 'dark' {
  const chosen = document.documentElement.dataset.theme;
  if (chosen === 'light' || chosen === 'dark') return chosen;
  return systemDark().matches ? 'dark' : 'light';
}

export function setTheme(theme: 'light' | 'dark'): void {
  // Colours switch at once: transitions are held off until the new theme has painted (no half-faded buttons).
  const root = document.documentElement;
  root.dataset.themeSwitching = '';
  requestAnimationFrame(() => requestAnimationFrame(() => delete root.dataset.themeSwitching));
  root.dataset.theme = theme;
  try {
    localStorage.setItem(storageKey, theme);
  } catch {
    // Storage can be unavailable (private mode, blocked): the choice then lasts for this page only.
  }
  window.dispatchEvent(new Event(themeEvent));
}

export function onThemeChange(listener: () => void): void {
  window.addEventListener(themeEvent, listener);
  systemDark().addEventListener('change', listener);
}
