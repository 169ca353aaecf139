/**
 * The strategy catalogue: which Marketing Logistics 4.0 technologies each segment archetype gets, in which
 * priority, and which KPIs each technology moves. One typed source for the CLI report, the explorer and
 * the CRM card.
 *
 * Source: Klepikov & Kolodizieva (2025), seed `marketing-logistics-4.0-clustering.txt`: Table 3 (technologies
 * per cluster), the per-cluster recommendations that follow it and the conclusions (priorities), and Table 1
 * (KPIs per technology; the lists below keep the customer-facing KPIs and the most telling logistics ones).
 */
import type { Archetype, Priority, StrategyRecommendation, TechnologyKey } from './types.js';

export interface Technology {
  key: TechnologyKey;
  name: string;
  /** One short sentence: what the technology does for marketing logistics. */
  explanation: string;
  /** KPIs the technology moves (Table 1). */
  kpis: string[];
}

export interface Strategy {
  archetype: Archetype;
  priority: Priority;
  technologies: TechnologyKey[];
  summary: string;
  /** Concrete actions from the paper's recommendations. */
  actions: string[];
}

/** Technology keys in the column order of the paper's Table 3. */
export const TECHNOLOGY_KEYS: readonly TechnologyKey[] = [
  'iot',
  'big_data',
  'ai',
  'ml_cognitive',
  'automation_robotics',
  'ar_vr_digital_twin',
  'it_cloud',
  'blockchain',
];

/** Technologies the paper recommends for every segment (IoT, big data, IT systems and cloud). */
export const UNIVERSAL_TECHNOLOGIES: readonly TechnologyKey[] = ['iot', 'big_data', 'it_cloud'];

export const TECHNOLOGIES: Readonly<Record<TechnologyKey, Technology>> = {
  iot: {
    key: 'iot',
    name: 'Internet of Things',
    explanation: 'Sensors connect and identify warehouse and delivery assets, making sales channels visible and predictable.',
    kpis: ['Customer retention', 'Customer churn', 'Order cycle time', 'On-time delivery', 'Service level', 'Forecast accuracy'],
  },
  big_data: {
    key: 'big_data',
    name: 'Big data analytics',
    explanation: 'Aggregated customer and supply-chain data drive decisions instead of intuition.',
    kpis: ['ROI', 'Customer lifetime value', 'Order fulfilment time', 'Service level', 'Inventory turnover', 'Forecast accuracy'],
  },
  ai: {
    key: 'ai',
    name: 'Artificial intelligence',
    explanation: 'Predicts customer behaviour and demand, personalises offers and answers customers through chatbots.',
    kpis: ['ROI', 'Customer lifetime value', 'Order fulfilment time', 'Capacity utilisation', 'Forecast accuracy'],
  },
  ml_cognitive: {
    key: 'ml_cognitive',
    name: 'Machine learning and cognitive technologies',
    explanation: 'Learns which customers grow and what they need next, for personalised, on-demand service.',
    kpis: ['Cross-selling ratio', 'Loyalty programme indicators', 'Order cycle time', 'Service level', 'Forecast accuracy'],
  },
  automation_robotics: {
    key: 'automation_robotics',
    name: 'Automation and robotics',
    explanation: 'Robotic picking, conveyors and automated shelving make order fulfilment faster, error-free and stable.',
    kpis: ['ROI', 'Customer lifetime value', 'Cross-selling ratio', 'Loyalty programme indicators', 'Order cycle time', 'On-time delivery'],
  },
  ar_vr_digital_twin: {
    key: 'ar_vr_digital_twin',
    name: 'AR/VR and digital twins',
    explanation: 'Customers try products virtually, and digital twins model orders and delivery for transparency.',
    kpis: ['Conversion rate', 'Customer returns', 'Marketing budget optimisation', 'Order fulfilment time', 'On-time delivery'],
  },
  it_cloud: {
    key: 'it_cloud',
    name: 'IT systems and cloud computing',
    explanation: 'Shared customer data and real-time collaboration at lower hardware and software cost.',
    kpis: ['Conversion rate', 'Customer returns', 'Marketing budget optimisation', 'Service cycle time', 'Service level'],
  },
  blockchain: {
    key: 'blockchain',
    name: 'Blockchain',
    explanation: 'Traceable deliveries and smart contracts build trust with remote, sceptical customers.',
    kpis: ['ROI', 'Customer lifetime value', 'Additional sales ratio', 'Loyalty programme indicators', 'Order cycle time', 'On-time delivery'],
  },
};

export const STRATEGIES: Readonly<Record<Archetype, Strategy>> = {
  loyal: {
    archetype: 'loyal',
    priority: 1,
    technologies: ['iot', 'big_data', 'automation_robotics', 'it_cloud'],
    summary: 'Retain and encourage loyal customers with faster, error-free, stable delivery.',
    actions: [
      'Automate picking and storage (pick-by-robot, conveyors, automated shelving) so regular orders ship faster and without errors.',
      'Use automated systems to personalise offers to individual preferences.',
      'Keep a personal contact alongside the automation to preserve the emotional bond behind long-term loyalty.',
    ],
  },
  profitable: {
    archetype: 'profitable',
    priority: 2,
    technologies: ['iot', 'big_data', 'ai', 'ml_cognitive', 'ar_vr_digital_twin', 'it_cloud'],
    summary: 'Raise the purchase frequency of large-order customers with personalised, predictive service.',
    actions: [
      'Personalise offers and recommendations, forecast demand and optimise inventory with AI.',
      'Serve requests at once through chatbots and virtual assistants.',
      'Spot customers whose orders are growing with machine learning and focus marketing on them.',
      'Let customers try products in AR/VR and model their orders and deliveries with digital twins.',
    ],
  },
  risky: {
    archetype: 'risky',
    priority: 3,
    technologies: ['iot', 'big_data', 'it_cloud', 'blockchain'],
    summary: 'Improve service or shorten the distance; build trust with traceable delivery. Lowest investment priority.',
    actions: [
      'Shorten the distance to the warehouse, for example with new pick-up points.',
      'Track every delivery stage and use smart contracts on a blockchain to build trust and reduce fraud.',
      'Invest last: the effect on loyalty and revenue is limited.',
    ],
  },
};

/** Archetypes in priority order. */
export const ARCHETYPES: readonly Archetype[] = ['loyal', 'profitable', 'risky'];

export function isArchetype(value: unknown): value is Archetype {
  return value === 'loyal' || value === 'profitable' || value === 'risky';
}

/**
 * The recommendation for a segment: its archetype's strategy, or for a descriptive segment the strategy of
 * its nearest archetype (naming.ts works out which).
 */
export function recommend(basis: Archetype): StrategyRecommendation {
  const strategy = STRATEGIES[basis];
  if (!strategy) throw new RangeError(`recommend: unknown archetype "${String(basis)}" (expected loyal, profitable or risky)`);
  return {
    basis,
    priority: strategy.priority,
    technologies: [...strategy.technologies],
    summary: strategy.summary,
  };
}
