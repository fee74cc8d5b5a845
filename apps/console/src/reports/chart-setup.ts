// Only the Chart.js parts a bar chart needs (tree-shaken), in a chunk of its own loaded on first use.
import { BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, Tooltip } from 'chart.js';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Legend, Tooltip);

export { Chart };
