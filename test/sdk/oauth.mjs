// Drives voicehook with the official Bandwidth Node SDK configured with
// OAuth2 client credentials (clientId/clientSecret), as Bandwidth's own
// SDK tests are. It prints one JSON line per step for the Go test that
// runs it (internal/server/sdk_oauth_test.go) to check.
//
// The SDK fetches its token from a fixed URL, Bandwidth's hosted
// https://api.bandwidth.com/api/v1/oauth2/token, with the default axios
// instance. The least surprising way to point it at voicehook is an axios
// interceptor that rewrites that one URL: everything else the SDK does
// (Basic client authentication, caching the token until a minute before it
// expires, sending it as a bearer token) is its own. The interceptor goes on
// the axios the SDK itself loads (its CommonJS build), found from the SDK's
// own location: `import axios from 'axios'` here would load the ES module
// build, a different instance.
import { createRequire } from 'node:module';
import { CallsApi, Configuration, EndpointsApi, StatisticsApi } from 'bandwidth-sdk';

const base = process.env.VH_BASE;       // http://127.0.0.1:port/api/v2
const app = process.env.VH_APP;         // the test's app server
const account = process.env.VH_ACCOUNT; // 9900000

const hosted = 'https://api.bandwidth.com/api/v1/oauth2/token';
const tokenURL = new URL('/api/v1/oauth2/token', base).href;
const sdkRequire = createRequire(createRequire(import.meta.url).resolve('bandwidth-sdk'));
const axios = sdkRequire('axios');
const seen = { tokenRequests: 0, schemes: [] };
axios.interceptors.request.use((config) => {
  if (config.url === hosted) {
    config.url = tokenURL;
    seen.tokenRequests++;
  } else {
    seen.schemes.push(String(config.headers?.Authorization ?? (config.auth ? 'Basic' : 'none')).split(' ')[0]);
  }
  return config;
});

const out = (step, data) => console.log(JSON.stringify({ step, ...data }));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function expectError(step, fn) {
  try {
    await fn();
    out(step, { status: 0 });
  } catch (e) {
    out(step, { status: e.response?.status ?? -1, body: e.response?.data, url: e.config?.url });
  }
}

// The dev account: its Basic username and password are its client id and
// secret too.
const calls = new CallsApi(new Configuration({ clientId: 'dev', clientSecret: 'dev', basePath: base }));

const created = await calls.createCall(account, {
  from: '+15551112222',
  to: '+15550000000',
  applicationId: '04e88489-df02-4e34-a0ee-27a91849555f',
  answerUrl: `${app}/answer`,
  disconnectUrl: `${app}/disconnect`,
  tag: 'oauth',
});
out('create', { status: created.status, data: created.data });
const callId = created.data.callId;

await sleep(1500); // it rings for a second, then runs the answer BXML
const state = await calls.getCallState(account, callId);
out('get', { status: state.status, data: state.data });

const listed = await calls.listCalls(account);
out('list', { status: listed.status, ids: listed.data.map((c) => c.callId) });

const hungUp = await calls.updateCall(account, callId, { state: 'completed' });
out('hangup', { status: hungUp.status });

await expectError('otheraccount', () => calls.getCallState('1234567', callId));
const wrong = new CallsApi(new Configuration({ clientId: 'dev', clientSecret: 'wrong', basePath: base }));
await expectError('wrongsecret', () => wrong.getCallState(account, callId));

// Credentials come before routing: a path voicehook does not serve (the
// SDK's BRTC endpoints, sent to voicehook's base path) is 401 without good
// credentials and 403 on another account before it is a 404.
const good = new Configuration({ clientId: 'dev', clientSecret: 'dev', basePath: base });
const badBasic = new Configuration({ username: 'dev', password: 'wrong', basePath: base });
await expectError('endpoints', () => new EndpointsApi(good).listEndpoints(account));
await expectError('endpointsbad', () => new EndpointsApi(badBasic).listEndpoints(account));
await expectError('endpointsother', () => new EndpointsApi(good).listEndpoints('1234567'));
await expectError('statisticsbad', () => new StatisticsApi(badBasic).getStatistics(account));
out('seen', seen);
