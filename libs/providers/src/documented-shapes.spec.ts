import { chutesShapes, desearchShapes, ProviderError, checkShape, twitterParams } from '.';

/**
 * The clients' shape checks against the providers' own documented examples, so a check that is
 * stricter than the real API fails here rather than in production.
 */
describe('documented examples pass the shape checks', () => {
  it('OpenAI chat completion object (https://platform.openai.com/docs/api-reference/chat/object)', () => {
    const example = {
      id: 'chatcmpl-123456',
      object: 'chat.completion',
      created: 1728933352,
      model: 'gpt-4o-2024-08-06',
      choices: [{ index: 0, message: { role: 'assistant', content: 'Hi there! How can I assist you today?', refusal: null }, logprobs: null, finish_reason: 'stop' }],
      usage: {
        prompt_tokens: 19,
        completion_tokens: 10,
        total_tokens: 29,
        prompt_tokens_details: { cached_tokens: 0 },
        completion_tokens_details: { reasoning_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
      },
      system_fingerprint: 'fp_6b68a8204b',
    };
    const parsed = checkShape('chutes', 'example', example, chutesShapes.completion);
    expect(parsed.choices[0].message.content).toBe('Hi there! How can I assist you today?');
    expect(parsed.usage).toMatchObject({ prompt_tokens: 19, completion_tokens: 10 });
  });

  it('OpenAI chat completion chunks, with the usage chunk of stream_options.include_usage (https://platform.openai.com/docs/api-reference/chat-streaming/streaming)', () => {
    const first = {
      id: 'chatcmpl-123',
      object: 'chat.completion.chunk',
      created: 1694268190,
      model: 'gpt-4o-mini',
      system_fingerprint: 'fp_44709d6fcb',
      choices: [{ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }],
    };
    const last = { ...first, choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: 'stop' }] };
    const usage = { ...first, choices: [], usage: { prompt_tokens: 9, completion_tokens: 12, total_tokens: 21 } };
    for (const chunk of [first, last, usage]) expect(chutesShapes.chunk.safeParse(chunk).success).toBe(true);
  });

  it('Chutes models listing: OpenAI list with pricing in USD per million tokens (GET https://llm.chutes.ai/v1/models, fields as public Chutes clients read them)', () => {
    const example = {
      object: 'list',
      data: [
        {
          id: 'deepseek-ai/DeepSeek-V3-0324',
          object: 'model',
          created: 1743000000,
          owned_by: 'sglang',
          root: 'deepseek-ai/DeepSeek-V3-0324',
          pricing: { prompt: 0.24, completion: 0.84 },
          context_length: 163840,
          max_output_length: 163840,
          input_modalities: ['text'],
          supported_features: ['json_mode', 'tools', 'reasoning'],
        },
        { id: 'unsloth/gemma-3-4b-it', object: 'model', created: 1743000001, owned_by: 'vllm' },
      ],
    };
    const parsed = checkShape('chutes', 'example', example, chutesShapes.models);
    expect(parsed.data[0].pricing).toMatchObject({ prompt: 0.24, completion: 0.84 });
    expect(parsed.data[1].pricing).toBeUndefined();
  });

  it('Desearch SERP web search: {"data": [{title, snippet, link}]} (https://desearch.ai/docs/api-reference, desearch-js WebSearchResultsResponse)', () => {
    const example = { data: [{ title: 'Title', snippet: 'Snippet', link: 'https://example.com' }] };
    expect(checkShape('desearch', 'example', example, desearchShapes.web).data[0].link).toBe('https://example.com');
  });

  it('Desearch X search: an array of TwitterScraperTweet (desearch-js src/types.ts)', () => {
    const example = [
      {
        user: { id: '1', username: 'opentensor', name: 'Opentensor', followers_count: 10 },
        id: '1890000000000000000',
        text: 'Bittensor subnets update',
        reply_count: 1,
        view_count: 100,
        retweet_count: 2,
        like_count: 3,
        quote_count: 0,
        bookmark_count: 0,
        url: 'https://x.com/opentensor/status/1890000000000000000',
        created_at: 'Wed Feb 12 16:37:33 +0000 2025',
        media: [],
        is_quote_tweet: false,
        is_retweet: false,
        lang: 'en',
        conversation_id: '1890000000000000000',
      },
    ];
    expect(checkShape('desearch', 'example', example, desearchShapes.twitter)[0].id).toBe('1890000000000000000');
  });

  it('Desearch AI search (non-streamed): desearch-js ResponseData', () => {
    const example = {
      search: [{ title: 'Title', snippet: 'Snippet', link: 'https://example.com/a' }],
      tweets: [],
      text: null,
      miner_link_scores: { 'https://example.com/a': 'HIGH' },
      completion: 'A summary citing https://example.com/a',
    };
    expect(checkShape('desearch', 'example', example, desearchShapes.aiSearch).completion).toContain('summary');
  });

  it('a link that is not http(s) is the wrong shape, not a citation', () => {
    expect(() => checkShape('desearch', 'example', { data: [{ title: 't', snippet: 's', link: 'javascript:alert(1)' }] }, desearchShapes.web)).toThrow(ProviderError);
  });
});

describe('requests follow the documented examples', () => {
  it('Desearch X search: GET https://api.desearch.ai/twitter with query, sort, count (https://desearch.ai/docs/guide/capabilities/basic-x-search)', () => {
    // The guide's example: params = { "query": "Bittensor", "sort": "Top", "count": 20 } (sort is Top or Latest).
    const documented = { query: 'Bittensor', sort: 'Top', count: 20 };
    const ours = twitterParams({ keywords: ['Bittensor'], limit: 20 });
    expect(Object.keys(ours).sort()).toEqual(Object.keys(documented).sort());
    expect(ours).toEqual({ query: 'Bittensor', sort: 'Latest', count: '20' });
    // Dates as the SDK's XSearchParams: YYYY-MM-DD.
    expect(twitterParams({ keywords: ['Bittensor'], since: '2025-02-16T08:00:00Z', until: '2025-02-17' })).toMatchObject({ start_date: '2025-02-16', end_date: '2025-02-17' });
  });
});
