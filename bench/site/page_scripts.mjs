// Scripts the site benchmarks install in every page before the site's own (context.addInitScript): each runs in the
// page on its own, so none may refer to anything outside its body.

// Sets window.__firstToken when the playground's first generated token appears (performance.now(), ms after
// navigation), and says so on the console (kFirstTokenMessage), which the benchmarks wait for (firstTokenSeen).
export const markFirstToken = () => {
  new MutationObserver((_, observer) => {
    if (!document.querySelector('.output [role=option]')) return;
    window.__firstToken = performance.now();
    console.debug(`tinylm-first-token ${window.__firstToken}`);
    observer.disconnect();
  }).observe(document, { childList: true, subtree: true });
};

// Resolves with the page's first-token time (markFirstToken); listen before navigating. Not page.waitForFunction:
// that has Playwright evaluate its injected script in the page, which a Chromium trace showed as 59–65 ms on the
// page's main thread while the first token was still on its way — the benchmark's own work, measured as the site's.
const kFirstTokenMessage = 'tinylm-first-token ';
export function firstTokenSeen(page, timeoutMs = 60_000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no first token within ${timeoutMs} ms`)), timeoutMs);
    page.on('console', (message) => {
      if (!message.text().startsWith(kFirstTokenMessage)) return;
      clearTimeout(timer);
      resolve(Number(message.text().slice(kFirstTokenMessage.length)));
    });
  });
}

// Presses Generate the moment it becomes enabled, as a user already holding the mouse over it would: driving the
// click from the benchmark added 50–190 ms of round trips and polling. Sets window.__pressed.
export const pressGenerateWhenReady = () => {
  new MutationObserver((_, observer) => {
    const generate = [...document.querySelectorAll('button')].find((button) => button.textContent === 'Generate' && !button.disabled);
    if (!generate) return;
    observer.disconnect();
    window.__pressed = performance.now();
    generate.click();
  }).observe(document, { childList: true, subtree: true, attributes: true, attributeFilter: ['disabled'] });
};
