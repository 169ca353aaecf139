/**
 * Keeps an element's locale current: resolves it from the nearest `lang` attribute (see `localeFor`) and
 * re-renders the host when `setLocale` changes the page default or the host's own `lang` attribute changes.
 */
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { localeFor, onLocaleChange, t } from './i18n.js';
import type { Locale, Params } from './i18n.js';

export class LocaleController implements ReactiveController {
  private readonly host: ReactiveControllerHost & HTMLElement;
  private unsubscribe: (() => void) | null = null;
  private observer: MutationObserver | null = null;
  locale: Locale = 'en';

  constructor(host: ReactiveControllerHost & HTMLElement) {
    this.host = host;
    host.addController(this);
  }

  hostConnected(): void {
    this.locale = localeFor(this.host);
    this.unsubscribe = onLocaleChange(() => this.refresh());
    this.observer = new MutationObserver(() => this.refresh());
    this.observer.observe(this.host, { attributes: true, attributeFilter: ['lang'] });
  }

  hostDisconnected(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
    this.observer?.disconnect();
    this.observer = null;
  }

  hostUpdate(): void {
    this.locale = localeFor(this.host);
  }

  /** Translate in the host's locale. */
  t(key: string, params?: Params): string {
    return t(key, params, this.locale);
  }

  private refresh(): void {
    const next = localeFor(this.host);
    if (next !== this.locale) {
      this.locale = next;
      this.host.requestUpdate();
    }
  }
}
