// Figures: a wrapper that lets a wide drawing scroll sideways with a visible cue (edge shadows, and a "scroll"
// line while it overflows; the region then takes focus so the keyboard can scroll it), and the theme's figure
// colours resolved to RGB for canvas drawings.
import { element } from './ui.js';

export function scrollingFigure(content: HTMLElement, label: string): HTMLElement {
  const region = element('div', { class: 'scroll-x' }, content);
  const cue = element('p', { class: 'scroll-cue', 'aria-hidden': 'true', text: 'Wider than the screen: scroll sideways' });
  const update = () => {
    const overflowing = region.scrollWidth > region.clientWidth + 1;
    region.dataset.overflowing = String(overflowing);
    if (overflowing) {
      region.tabIndex = 0;
      region.setAttribute('role', 'region');
      region.setAttribute('aria-label', `${label} (scrolls sideways)`);
    } else {
      region.removeAttribute('tabindex');
      region.removeAttribute('role');
      region.removeAttribute('aria-label');
    }
  };
  const observer = new ResizeObserver(update);
  observer.observe(region);
  observer.observe(content);
  return element('div', { class: 'figure-scroll' }, region, cue);
}

export type Rgb = [number, number, number];

export interface FigureColours {
  background: Rgb;
  ink: Rgb;
  positive: Rgb;   // weight 1, or +1 on a signed scale
  negative: Rgb;   // −1 on a signed scale
  masked: Rgb;     // cells a causal model cannot see
  cursor: Rgb;     // the cell under keyboard or pointer focus
}

// Custom properties hold light-dark() pairs: resolve one through a real colour property on a probe element.
export function themeColour(name: string): Rgb {
  const probe = element('span', { style: `display:none;color:var(${name})` });
  document.body.append(probe);
  const match = /rgba?\((\d+),\s*(\d+),\s*(\d+)/.exec(getComputedStyle(probe).color);
  probe.remove();
  return match ? [Number(match[1]), Number(match[2]), Number(match[3])] : [0, 0, 0];
}

export function figureColours(): FigureColours {
  const read = themeColour;
  const colours: FigureColours = {
    background: read('--fig-bg'), ink: read('--fig-ink'), positive: read('--fig-positive'),
    negative: read('--fig-negative'), masked: read('--fig-masked'), cursor: read('--fig-cursor'),
  };
  return colours;
}

export const css = ([r, g, b]: Rgb) => `rgb(${r},${g},${b})`;

// The colour t of the way from `from` to `to` (t in [0, 1]).
export function mix(from: Rgb, to: Rgb, t: number): string {
  const clamped = Math.min(1, Math.max(0, t));
  return css([0, 1, 2].map((i) => Math.round(from[i] + (to[i] - from[i]) * clamped)) as Rgb);
}
