import { expect } from '@open-wc/testing';
import { ApiClient, ApiError } from '../../widget/shared/api.js';
import { afterEach, describe, it, json, makeModel, mockFetch } from './badge-fixtures.js';

describe('ApiClient', () => {
  let restore: (() => void) | null = null;
  afterEach(() => {
    restore?.();
    restore = null;
  });

  it('turns a server error body into an ApiError with its message, code and status', async () => {
    restore = mockFetch({
      '/api/model': () => json({ error: { message: 'Feature "x" is not in the snapshot', code: 'bad_model' } }, 400),
    }).restore;
    const error = await new ApiClient().publishModel(makeModel()).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).to.be.instanceOf(ApiError);
    expect((error as ApiError).message).to.equal('Feature "x" is not in the snapshot');
    expect((error as ApiError).code).to.equal('bad_model');
    expect((error as ApiError).status).to.equal(400);
  });

  it('answers null for the model when none is published (404)', async () => {
    restore = mockFetch({ '/api/model': () => json({ error: { message: 'none', code: 'no_model' } }, 404) }).restore;
    expect(await new ApiClient().model()).to.equal(null);
  });

  it('posts the model as JSON and returns the job id', async () => {
    let body = '';
    let method = '';
    restore = mockFetch({
      '/api/model': async (_url, init) => {
        method = init?.method ?? '';
        body = String(init?.body);
        return json({ jobId: 'j1', model: { createdAt: 'c', k: 3 } }, 202);
      },
    }).restore;
    const answer = await new ApiClient().publishModel(makeModel());
    expect(answer.jobId).to.equal('j1');
    expect(method).to.equal('POST');
    expect(JSON.parse(body).k).to.equal(3);
  });

  it('builds contact queries and prefixes the base URL', async () => {
    const mock = mockFetch({ '/base/api/contacts': () => json({ total: 0, offset: 0, limit: 50, contacts: [] }) });
    restore = mock.restore;
    await new ApiClient('/base/').contacts({ segment: 'loyal', q: 'ann lee', offset: 0, limit: 50 });
    expect(mock.calls).to.deep.equal(['GET /base/api/contacts?segment=loyal&q=ann+lee&offset=0&limit=50']);
  });

  it('reports network failures as ApiError with status 0', async () => {
    const original = globalThis.fetch;
    globalThis.fetch = (() => Promise.reject(new TypeError('Failed to fetch'))) as typeof fetch;
    restore = () => (globalThis.fetch = original);
    const error = (await new ApiClient().config().catch((e: unknown) => e)) as ApiError;
    expect(error).to.be.instanceOf(ApiError);
    expect(error.status).to.equal(0);
    expect(error.message).to.contain('Failed to fetch');
  });

  it('uses a generic message when the error body is not JSON', async () => {
    restore = mockFetch({ '/api/jobs/x': () => new Response('<html>bad gateway</html>', { status: 502, statusText: 'Bad Gateway' }) }).restore;
    const error = (await new ApiClient().job('x').catch((e: unknown) => e)) as ApiError;
    expect(error.message).to.equal('502 Bad Gateway for /api/jobs/x');
    expect(error.code).to.equal('http_502');
  });
});
