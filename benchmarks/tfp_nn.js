/* Copyright 2016 Google Inc. All Rights Reserved.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
==============================================================================*/

/*
 * A port to plain JavaScript (Node, no build step) of TensorFlow Playground's network code, used as the
 * yardstick for the tiny-network row of benchmarks/spiral_tiny.py.
 *
 * Source: github.com/tensorflow/playground, commit 02469bd3751764b20486015d4202b792af5362a6 (2022-06-06):
 * - src/nn.ts: Node, Link, Errors.SQUARE, Activations (TANH, RELU, SIGMOID, LINEAR), RegularizationFunction,
 *   buildNetwork, forwardProp, backProp, updateWeights, kept line for line; only the TypeScript types are
 *   dropped (and the Math.tanh polyfill, which Node does not need).
 * - src/playground.ts: oneStep() and getLoss() (the epoch the page runs: forward, backward and an update
 *   every batchSize points, then the train and test loss), with the UI calls (updateUI) left out.
 * Changes made here, marked below: weights come from a seeded generator put in place of Math.random (the
 * playground seeds Math.random too, through seedrandom), and a command-line driver times each epoch.
 * Licence: Apache-2.0, as above; the full text is in the source repository's LICENSE file.
 *
 * Usage: node benchmarks/tfp_nn.js INPUT.json
 *   INPUT.json: {"train": [[x, y, label], ...], "test": [...], "shape": [2, 8, 8, 1], "activation": "tanh",
 *                "epochs": 50, "batch_size": 10, "learning_rate": 0.03, "regularization_rate": 0, "seed": 0}
 *   labels are -1 / +1 as in the playground. Prints one JSON line: {"ms_per_epoch": [...], "cpu_ms_per_epoch": [...], "train_loss": ...,
 *   "test_loss": ...}.
 */
"use strict";

// ---- src/nn.ts -------------------------------------------------------------------------------------------

class Node {
  constructor(id, activation, initZero) {
    this.id = id;
    this.inputLinks = [];
    this.bias = 0.1;
    this.outputs = [];
    this.totalInput = 0;
    this.output = 0;
    this.outputDer = 0;
    this.inputDer = 0;
    this.accInputDer = 0;
    this.numAccumulatedDers = 0;
    this.activation = activation;
    if (initZero) {
      this.bias = 0;
    }
  }

  updateOutput() {
    this.totalInput = this.bias;
    for (let j = 0; j < this.inputLinks.length; j++) {
      let link = this.inputLinks[j];
      this.totalInput += link.weight * link.source.output;
    }
    this.output = this.activation.output(this.totalInput);
    return this.output;
  }
}

const Errors = {
  SQUARE: {
    error: (output, target) => 0.5 * Math.pow(output - target, 2),
    der: (output, target) => output - target,
  },
};

const Activations = {
  TANH: {
    output: (x) => Math.tanh(x),
    der: (x) => {
      let output = Activations.TANH.output(x);
      return 1 - output * output;
    },
  },
  RELU: {
    output: (x) => Math.max(0, x),
    der: (x) => (x <= 0 ? 0 : 1),
  },
  SIGMOID: {
    output: (x) => 1 / (1 + Math.exp(-x)),
    der: (x) => {
      let output = Activations.SIGMOID.output(x);
      return output * (1 - output);
    },
  },
  LINEAR: {
    output: (x) => x,
    der: (x) => 1,
  },
};

const RegularizationFunction = {
  L1: {
    output: (w) => Math.abs(w),
    der: (w) => (w < 0 ? -1 : w > 0 ? 1 : 0),
  },
  L2: {
    output: (w) => 0.5 * w * w,
    der: (w) => w,
  },
};

class Link {
  constructor(source, dest, regularization, initZero) {
    this.id = source.id + "-" + dest.id;
    this.source = source;
    this.dest = dest;
    this.weight = Math.random() - 0.5;
    this.isDead = false;
    this.errorDer = 0;
    this.accErrorDer = 0;
    this.numAccumulatedDers = 0;
    this.regularization = regularization;
    if (initZero) {
      this.weight = 0;
    }
  }
}

function buildNetwork(networkShape, activation, outputActivation, regularization, inputIds, initZero) {
  let numLayers = networkShape.length;
  let id = 1;
  let network = [];
  for (let layerIdx = 0; layerIdx < numLayers; layerIdx++) {
    let isOutputLayer = layerIdx === numLayers - 1;
    let isInputLayer = layerIdx === 0;
    let currentLayer = [];
    network.push(currentLayer);
    let numNodes = networkShape[layerIdx];
    for (let i = 0; i < numNodes; i++) {
      let nodeId = id.toString();
      if (isInputLayer) {
        nodeId = inputIds[i];
      } else {
        id++;
      }
      let node = new Node(nodeId, isOutputLayer ? outputActivation : activation, initZero);
      currentLayer.push(node);
      if (layerIdx >= 1) {
        for (let j = 0; j < network[layerIdx - 1].length; j++) {
          let prevNode = network[layerIdx - 1][j];
          let link = new Link(prevNode, node, regularization, initZero);
          prevNode.outputs.push(link);
          node.inputLinks.push(link);
        }
      }
    }
  }
  return network;
}

function forwardProp(network, inputs) {
  let inputLayer = network[0];
  if (inputs.length !== inputLayer.length) {
    throw new Error("The number of inputs must match the number of nodes in the input layer");
  }
  for (let i = 0; i < inputLayer.length; i++) {
    let node = inputLayer[i];
    node.output = inputs[i];
  }
  for (let layerIdx = 1; layerIdx < network.length; layerIdx++) {
    let currentLayer = network[layerIdx];
    for (let i = 0; i < currentLayer.length; i++) {
      let node = currentLayer[i];
      node.updateOutput();
    }
  }
  return network[network.length - 1][0].output;
}

function backProp(network, target, errorFunc) {
  let outputNode = network[network.length - 1][0];
  outputNode.outputDer = errorFunc.der(outputNode.output, target);

  for (let layerIdx = network.length - 1; layerIdx >= 1; layerIdx--) {
    let currentLayer = network[layerIdx];
    for (let i = 0; i < currentLayer.length; i++) {
      let node = currentLayer[i];
      node.inputDer = node.outputDer * node.activation.der(node.totalInput);
      node.accInputDer += node.inputDer;
      node.numAccumulatedDers++;
    }

    for (let i = 0; i < currentLayer.length; i++) {
      let node = currentLayer[i];
      for (let j = 0; j < node.inputLinks.length; j++) {
        let link = node.inputLinks[j];
        if (link.isDead) {
          continue;
        }
        link.errorDer = node.inputDer * link.source.output;
        link.accErrorDer += link.errorDer;
        link.numAccumulatedDers++;
      }
    }
    if (layerIdx === 1) {
      continue;
    }
    let prevLayer = network[layerIdx - 1];
    for (let i = 0; i < prevLayer.length; i++) {
      let node = prevLayer[i];
      node.outputDer = 0;
      for (let j = 0; j < node.outputs.length; j++) {
        let output = node.outputs[j];
        node.outputDer += output.weight * output.dest.inputDer;
      }
    }
  }
}

function updateWeights(network, learningRate, regularizationRate) {
  for (let layerIdx = 1; layerIdx < network.length; layerIdx++) {
    let currentLayer = network[layerIdx];
    for (let i = 0; i < currentLayer.length; i++) {
      let node = currentLayer[i];
      if (node.numAccumulatedDers > 0) {
        node.bias -= learningRate * node.accInputDer / node.numAccumulatedDers;
        node.accInputDer = 0;
        node.numAccumulatedDers = 0;
      }
      for (let j = 0; j < node.inputLinks.length; j++) {
        let link = node.inputLinks[j];
        if (link.isDead) {
          continue;
        }
        let regulDer = link.regularization ? link.regularization.der(link.weight) : 0;
        if (link.numAccumulatedDers > 0) {
          link.weight = link.weight - (learningRate / link.numAccumulatedDers) * link.accErrorDer;
          let newLinkWeight = link.weight - (learningRate * regularizationRate) * regulDer;
          if (link.regularization === RegularizationFunction.L1 && link.weight * newLinkWeight < 0) {
            link.weight = 0;
            link.isDead = true;
          } else {
            link.weight = newLinkWeight;
          }
          link.accErrorDer = 0;
          link.numAccumulatedDers = 0;
        }
      }
    }
  }
}

// ---- src/playground.ts: oneStep() and getLoss(), without the UI ---------------------------------------------

// constructInput with the x1, x2 features (the playground's default inputs for the spiral)
function constructInput(x, y) {
  return [x, y];
}

function getLoss(network, dataPoints) {
  let loss = 0;
  for (let i = 0; i < dataPoints.length; i++) {
    let dataPoint = dataPoints[i];
    let input = constructInput(dataPoint.x, dataPoint.y);
    let output = forwardProp(network, input);
    loss += Errors.SQUARE.error(output, dataPoint.label);
  }
  return loss / dataPoints.length;
}

function oneStep(network, trainData, testData, state) {
  trainData.forEach((point, i) => {
    let input = constructInput(point.x, point.y);
    forwardProp(network, input);
    backProp(network, point.label, Errors.SQUARE);
    if ((i + 1) % state.batchSize === 0) {
      updateWeights(network, state.learningRate, state.regularizationRate);
    }
  });
  return [getLoss(network, trainData), getLoss(network, testData)];
}

// ---- driver (not in the playground) --------------------------------------------------------------------------

// change: a seeded generator in place of Math.random (mulberry32), so every run draws the same weights
function seededRandom(seed) {
  let a = seed >>> 0;
  return function () {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function main() {
  const fs = require("fs");
  const input = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
  const toPoints = (rows) => rows.map(([x, y, label]) => ({ x, y, label }));
  const trainData = toPoints(input.train);
  const testData = toPoints(input.test);
  Math.random = seededRandom(input.seed || 0);
  const activation = Activations[(input.activation || "tanh").toUpperCase()];
  const inputIds = input.shape[0] === 2 ? ["x", "y"] : input.shape.slice(0, 1).map((_, i) => "in" + i);
  const network = buildNetwork(input.shape, activation, Activations.TANH, null, inputIds, false);
  const state = { batchSize: input.batch_size, learningRate: input.learning_rate,
                  regularizationRate: input.regularization_rate || 0 };
  const msPerEpoch = [];
  const cpuMsPerEpoch = [];   // user + system CPU time of this process: stays meaningful on a busy machine
  let losses = [getLoss(network, trainData), getLoss(network, testData)];
  for (let epoch = 0; epoch < input.epochs; epoch++) {
    const start = process.hrtime.bigint();
    const cpu = process.cpuUsage();
    losses = oneStep(network, trainData, testData, state);
    const used = process.cpuUsage(cpu);
    msPerEpoch.push(Number(process.hrtime.bigint() - start) / 1e6);
    cpuMsPerEpoch.push((used.user + used.system) / 1000);
  }
  console.log(JSON.stringify({ ms_per_epoch: msPerEpoch, cpu_ms_per_epoch: cpuMsPerEpoch, train_loss: losses[0], test_loss: losses[1] }));
}

main();
