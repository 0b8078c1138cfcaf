// Scripts the site benchmarks install in every page before the site's own (context.addInitScript): each runs in the
// page on its own, so none may refer to anything outside its body.

// Sets window.__firstToken when the playground's first generated token appears (performance.now(), ms after
// navigation).
export const markFirstToken = () => {
  new MutationObserver((_, observer) => {
    if (!document.querySelector('.output [role=option]')) return;
    window.__firstToken = performance.now();
    observer.disconnect();
  }).observe(document, { childList: true, subtree: true });
};

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
