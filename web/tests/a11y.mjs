// Accessibility checks run in the page: every control has an accessible name, and no positive tabindex.
export async function unlabeledControls(page) {
  return page.evaluate(() => {
    const bad = [];
    for (const el of document.querySelectorAll('input, select, textarea, button, a[href]')) {
      if (el.type === 'hidden' || el.closest('[hidden]')) continue;
      const name = (el.getAttribute('aria-label') || '').trim()
        || (el.getAttribute('aria-labelledby') ? 'x' : '')
        || (el.labels && [...el.labels].map((l) => l.textContent.trim()).join(''))
        || ((el.tagName === 'BUTTON' || el.tagName === 'A') ? el.textContent.trim() : '')
        || (el.getAttribute('title') || '').trim();
      if (!name) bad.push(el.outerHTML.slice(0, 120));
      if (Number(el.getAttribute('tabindex')) > 0) bad.push(`positive tabindex: ${el.outerHTML.slice(0, 80)}`);
    }
    return bad;
  });
}
